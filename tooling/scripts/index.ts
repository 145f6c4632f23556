export type { LaunchChromiumOptions } from "./chromium.js";
export { CHROMIUM_FLAGS, chromiumMissingReason, chromiumPath, findChromium, launchChromium } from "./chromium.js";
export type { RunningPostgres } from "./postgres.js";
export { findPostgresBin, postgresMissingReason, startPostgres } from "./postgres.js";
export { skipWithoutService, titleWithReason } from "./skip.js";
export type { TestServiceErrorCode } from "./TestServiceError.js";
export { TestServiceError } from "./TestServiceError.js";
