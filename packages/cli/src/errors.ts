/** Exit codes of the `lowrank` command: scripts depend on them. */
export const EXIT_OK = 0;
export const EXIT_BAD_INPUT = 1;
export const EXIT_USAGE = 2;

/** Thrown by a command for bad input: printed as one line, exit code 1 (or `{"error":...}` with --json). */
export class CliError extends Error {
  override readonly name = "CliError";
  constructor(
    message: string,
    readonly code = "BadInput",
    readonly exitCode: number = EXIT_BAD_INPUT,
  ) {
    super(message);
  }
}

/** Normalizes anything thrown into `{code, message}`: typed errors of other packages keep their code. */
export function describeError(error: unknown): { code: string; message: string } {
  if (typeof error === "object" && error !== null) {
    const e = error as { code?: unknown; message?: unknown };
    const code = typeof e.code === "string" ? e.code : "Error";
    const message = typeof e.message === "string" ? e.message : String(error);
    return { code, message };
  }
  return { code: "Error", message: String(error) };
}
