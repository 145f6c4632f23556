/** Every way the blob store reports a failure. */
export type BlobErrorCode = "TooLarge" | "Truncated" | "DigestMismatch" | "NotFound" | "InvalidDigest" | "InvalidRange";

/** The blob store's one error class. Check `code`, not only `instanceof`. */
export class BlobError extends Error {
  override readonly name = "BlobError";
  readonly code: BlobErrorCode;
  constructor(code: BlobErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

export function isBlobError(error: unknown): error is BlobError {
  return error instanceof Error && error.name === "BlobError" && typeof (error as BlobError).code === "string";
}
