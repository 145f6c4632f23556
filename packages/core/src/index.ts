// Public API of @lowrank/core, listed by hand. Keep additive: several engineers add to it.
export { CoreError, isCoreError, type CoreErrorCode } from "./errors.js";
