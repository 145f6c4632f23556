export { type DoctorReport, doctor } from "./commands/doctor.js";
export {
  CLI_ERROR_CODES,
  CliError,
  type CliErrorCode,
  EXIT_BAD_INPUT,
  EXIT_OK,
  EXIT_USAGE,
  isCliError,
} from "./errors.js";
export type { CliIO } from "./output.js";
export { createProgram, runCli } from "./program.js";
