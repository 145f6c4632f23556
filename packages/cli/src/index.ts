export { type DoctorReport, doctor } from "./commands/doctor.js";
export { CliError, EXIT_BAD_INPUT, EXIT_OK, EXIT_USAGE } from "./errors.js";
export type { CliIO } from "./output.js";
export { createProgram, runCli } from "./program.js";
