export { createProgram, runCli } from "./program.js";
export { CliError, EXIT_BAD_INPUT, EXIT_OK, EXIT_USAGE } from "./errors.js";
export type { CliIO } from "./output.js";
export { doctor, type DoctorReport } from "./commands/doctor.js";
