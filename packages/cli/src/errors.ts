/** Exit codes of the `lowrank` command: scripts depend on them. */
export const EXIT_OK = 0;
export const EXIT_BAD_INPUT = 1;
export const EXIT_USAGE = 2;

/**
 * The CLI's own error codes (a closed set, `CLI_ERROR_CODES`; errors of other packages keep theirs):
 * - `Usage`: unknown command or option, missing argument (exit 2);
 * - `InvalidOption`: an option or argument value the command cannot take (exit 2);
 * - `BadInput`: input that parses but cannot be used, such as a token id outside the vocabulary (exit 1);
 * - `UnknownRecipe`: `lowrank train NAME` with no such recipe (exit 1);
 * - `OutputExists`: `--out` (or OUT) is taken and `--force` was not given (exit 1);
 * - hub commands (exit 1): `HubUnreachable`, `NotAHub`, `SignInFailed`, `Unauthorized`, `Forbidden`,
 *   `NotFound`, `Conflict` (a version that exists), `PickleRefused`, `DigestMismatch`, `TransferFailed`,
 *   `HubError` (anything else the hub answered);
 * - `Internal`: what `--json` reports for an error that is not typed (a bug).
 */
export const CLI_ERROR_CODES = [
  "Usage",
  "InvalidOption",
  "BadInput",
  "UnknownRecipe",
  "OutputExists",
  "HubUnreachable",
  "NotAHub",
  "SignInFailed",
  "Unauthorized",
  "Forbidden",
  "NotFound",
  "Conflict",
  "PickleRefused",
  "DigestMismatch",
  "TransferFailed",
  "HubError",
  "Internal",
] as const;
export type CliErrorCode = (typeof CLI_ERROR_CODES)[number];

const CODES: ReadonlySet<string> = new Set(CLI_ERROR_CODES);

/** Thrown by a command: printed as one line (or `{"error":...}` with --json), exit code 1 or 2. */
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
    return { code: typed ? (e.code as string) : "Internal", message: inCliTerms(message) };
  }
  return { code: "Internal", message: inCliTerms(String(error)) };
}

/** SDK option names as the CLI spells them, for messages of the libraries below it. */
const CLI_TERMS: Array<[RegExp, string]> = [
  [/\(pass overwrite to replace it\)|\(overwrite not set\)/g, "(use --force to replace it)"],
  [/give headCount \/ headCountKv/g, "give --heads / --kv-heads"],
  [/\bheadCountKv\b/g, "--kv-heads"],
  [/\bheadCount\b/g, "--heads"],
  [/pass moduleNames to be exact/g, "give --base to be exact"],
  [
    /\(in Node call installNodeWebGPU\(\) first\)/g,
    "(lowrank --backend webgpu needs the optional webgpu package and a Vulkan driver)",
  ],
  [
    /\(call installNodeWebGPU\(\) before the first import\)/g,
    "(run lowrank again with --backend webgpu from the start)",
  ],
];

/** Rewrites SDK wording (option and function names) into the CLI's flags. */
export function inCliTerms(message: string): string {
  return CLI_TERMS.reduce((m, [from, to]) => m.replace(from, to), message);
}
