/** Exit codes of the `lowrank` command: scripts depend on them. */
export const EXIT_OK = 0;
export const EXIT_BAD_INPUT = 1;
export const EXIT_USAGE = 2;

/** Every code a `CliError` carries (other packages' typed errors keep their own closed codes). */
export const CLI_ERROR_CODES = ["BadInput", "BadOption", "Usage", "UnknownRecipe", "Internal"] as const;
export type CliErrorCode = (typeof CLI_ERROR_CODES)[number];

const CODES: ReadonlySet<string> = new Set(CLI_ERROR_CODES);

/** Thrown by a command for bad input: printed as one line, exit code 1 (or `{"error":...}` with --json). */
export class CliError extends Error {
  override readonly name = "CliError";
  constructor(
    message: string,
    readonly code: CliErrorCode = "BadInput",
    readonly exitCode: number = EXIT_BAD_INPUT,
  ) {
    super(message);
  }
}

/** True for a `CliError` from any copy of this package (checks `name` and a known `code`). */
export function isCliError(error: unknown): error is CliError {
  if (typeof error !== "object" || error === null) return false;
  const e = error as { name?: unknown; code?: unknown };
  return e.name === "CliError" && typeof e.code === "string" && CODES.has(e.code);
}

/** The typed errors of the lowrank packages, recognised by name and code (never by message). */
const TYPED = new Set(["CliError", "FormatError", "CoreError", "RuntimeError"]);

/**
 * Normalizes anything thrown into `{code, message}`: typed errors of the lowrank packages keep their
 * (closed) code; anything else is `Internal`.
 */
export function describeError(error: unknown): { code: string; message: string } {
  if (typeof error === "object" && error !== null) {
    const e = error as { name?: unknown; code?: unknown; message?: unknown };
    const typed = typeof e.name === "string" && TYPED.has(e.name) && typeof e.code === "string";
    const message = typeof e.message === "string" ? e.message : String(error);
    return { code: typed ? (e.code as string) : "Internal", message };
  }
  return { code: "Internal", message: String(error) };
}
