/**
 * Every way reading or writing an adapter file can fail. Safetensors codes follow the names of the
 * reference Rust implementation (`huggingface/safetensors`, `SafeTensorError`) where one exists.
 */
export const FORMAT_ERROR_CODES = [
  // safetensors (reference names)
  "HeaderTooSmall",
  "HeaderTooLarge",
  "InvalidHeaderLength",
  "InvalidHeader",
  "InvalidHeaderStart",
  "InvalidHeaderDeserialization",
  "InvalidOffset",
  "MetadataIncompleteBuffer",
  "TensorInvalidInfo",
  "TensorNotFound",
  "ValidationOverflow",
  "MisalignedSlice",
  // safetensors (stricter than the reference, or finer-grained)
  "HeaderNotUtf8",
  "DuplicateTensor",
  "UnknownDtype",
  "UnsupportedDtype",
  "InvalidMetadata",
  "InvalidTensorData",
  // other formats
  "InvalidGguf",
  "UnsupportedVersion",
  "Truncated",
  "InvalidConfig",
  "PickleRefused",
  "ShapeMismatch",
  "NoMatchingModules",
  "UnknownFormat",
  "IoError",
] as const;

export type FormatErrorCode = (typeof FORMAT_ERROR_CODES)[number];

const CODE_SET: ReadonlySet<string> = new Set(FORMAT_ERROR_CODES);

/** The one error type of `@lowrank/formats`. Branch on `code`, not on `message`. */
export class FormatError extends Error {
  override readonly name = "FormatError";
  readonly code: FormatErrorCode;

  constructor(code: FormatErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/**
 * True for a `FormatError` from any copy of this package (two versions may be installed side by
 * side, so `instanceof` alone is not enough): checks `name` and that `code` is a known code.
 */
export function isFormatError(error: unknown): error is FormatError {
  if (error instanceof FormatError) return true;
  if (typeof error !== "object" || error === null) return false;
  const e = error as { name?: unknown; code?: unknown };
  return e.name === "FormatError" && typeof e.code === "string" && CODE_SET.has(e.code);
}

/** Outcome of a `safe*` function: branch on `ok` instead of catching. */
export type Result<T> = { ok: true; value: T } | { ok: false; error: FormatError };

/**
 * Runs `fn` and wraps its outcome: a `FormatError` becomes `{ ok: false }`; any other exception is a
 * bug and is rethrown.
 */
export function toResult<T>(fn: () => T): Result<T> {
  try {
    return { ok: true, value: fn() };
  } catch (error) {
    if (isFormatError(error)) return { ok: false, error };
    throw error;
  }
}

/** Async twin of {@link toResult}. */
export async function toResultAsync<T>(fn: () => Promise<T>): Promise<Result<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (error) {
    if (isFormatError(error)) return { ok: false, error };
    throw error;
  }
}
