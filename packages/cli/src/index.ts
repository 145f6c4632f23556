export { type DoctorReport, doctor } from "./commands/doctor.js";
export { type LoginOptions, login } from "./commands/login.js";
export { type PublishOptions, type PublishResult, publish } from "./commands/publish.js";
export { type PullOptions, pull } from "./commands/pull.js";
export { type SearchItem, type SearchOptions, searchHub } from "./commands/search.js";
export { type ServeOptions, serve } from "./commands/serve.js";
export {
  CLI_ERROR_CODES,
  CliError,
  type CliErrorCode,
  EXIT_BAD_INPUT,
  EXIT_OK,
  EXIT_USAGE,
  isCliError,
} from "./errors.js";
export { credentialsPath } from "./hub/credentials.js";
export type { CliIO } from "./output.js";
export { createProgram, runCli } from "./program.js";
export { captureIO } from "./testing.js";
