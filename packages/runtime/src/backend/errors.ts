/** Stable codes for runtime failures. */
export type RuntimeErrorCode =
  | "BackendUnavailable"
  | "BackendInitFailed"
  | "BackendInitTimeout"
  | "InvalidArgument"
  | "AdapterLoadFailed"
  | "AdapterMismatch"
  | "ModelLoadFailed"
  | "Cancelled"
  | "NotFound"
  | "Overloaded";

/** The one error type of `@lowrank/runtime`; branch on `code`, not on `instanceof`. */
export class RuntimeError extends Error {
  override readonly name = "RuntimeError";
  constructor(
    readonly code: RuntimeErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isRuntimeError(e: unknown): e is RuntimeError {
  return (
    typeof e === "object" &&
    e !== null &&
    (e as { name?: unknown }).name === "RuntimeError" &&
    typeof (e as { code?: unknown }).code === "string"
  );
}
