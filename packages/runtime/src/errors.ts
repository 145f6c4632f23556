/**
 * The one error type of `@lowrank/runtime`, its closed set of codes, and the HTTP status each code
 * answers with in `lowrank serve` (so the server's own errors are runtime errors too).
 */
export const RUNTIME_ERROR_CODES = [
  "BackendUnavailable",
  "BackendInitFailed",
  "BackendInitTimeout",
  "InvalidArgument",
  "AdapterLoadFailed",
  "AdapterMismatch",
  "ModelLoadFailed",
  "Cancelled",
  "NotFound",
  "Overloaded",
  // raised by the HTTP server itself
  "BadRequest",
  "Forbidden",
  "MethodNotAllowed",
  "PayloadTooLarge",
  "Internal",
] as const;

export type RuntimeErrorCode = (typeof RUNTIME_ERROR_CODES)[number];

const CODES: ReadonlySet<string> = new Set(RUNTIME_ERROR_CODES);

/** The one error type of `@lowrank/runtime`; branch on `code` (or `isRuntimeError`), never on the message. */
export class RuntimeError extends Error {
  override readonly name = "RuntimeError";
  /** The adapter the error is about, when there is one (set by loaders, read by the engine). */
  readonly adapter?: string;
  /** The request field at fault, when there is one (`model`, `max_tokens`...). */
  readonly field?: string;

  constructor(
    readonly code: RuntimeErrorCode,
    message: string,
    options?: { cause?: unknown; adapter?: string; field?: string },
  ) {
    super(message, options);
    if (options?.adapter !== undefined) this.adapter = options.adapter;
    if (options?.field !== undefined) this.field = options.field;
  }
}

/** True for a `RuntimeError` from any copy of this package (checks `name` and a known `code`), optionally of one code. */
export function isRuntimeError(e: unknown, code?: RuntimeErrorCode): e is RuntimeError {
  if (typeof e !== "object" || e === null) return false;
  const x = e as { name?: unknown; code?: unknown };
  return x.name === "RuntimeError" && typeof x.code === "string" && CODES.has(x.code) && (!code || x.code === code);
}

/** The server's errors are runtime errors (kept under this name for the server's code). */
export const HttpError = RuntimeError;
export type HttpError = RuntimeError;

/** HTTP status for each runtime error code. */
export const HTTP_STATUS: Readonly<Record<RuntimeErrorCode, number>> = {
  BadRequest: 400,
  InvalidArgument: 400,
  Forbidden: 403,
  NotFound: 404,
  MethodNotAllowed: 405,
  PayloadTooLarge: 413,
  AdapterMismatch: 422,
  AdapterLoadFailed: 422,
  Cancelled: 503,
  Overloaded: 503,
  ModelLoadFailed: 500,
  BackendUnavailable: 500,
  BackendInitFailed: 500,
  BackendInitTimeout: 503,
  Internal: 500,
};

/** Typed errors of the other lowrank packages: bad input by design, so 400 with their own closed code. */
function isInputError(e: unknown): e is { code: string; message: string } {
  if (typeof e !== "object" || e === null) return false;
  const x = e as { name?: unknown; code?: unknown; message?: unknown };
  return (x.name === "FormatError" || x.name === "CoreError") && typeof x.code === "string";
}

/**
 * `{ status, body }` for anything thrown: runtime errors keep their code and status, formats and core
 * errors (bad input) answer 400 with their code, anything else is `Internal` (500).
 */
export function errorResponse(error: unknown): { status: number; body: { error: { code: string; message: string } } } {
  const message = error instanceof Error ? error.message : String(error);
  if (isRuntimeError(error)) return { status: HTTP_STATUS[error.code], body: { error: { code: error.code, message } } };
  if (isInputError(error)) return { status: 400, body: { error: { code: error.code, message } } };
  return { status: 500, body: { error: { code: "Internal", message } } };
}
