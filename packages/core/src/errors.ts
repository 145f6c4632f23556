/** Every way `@lowrank/core` refuses input. Check `error.code`, not only `instanceof`. */
export type CoreErrorCode =
  | "InvalidConfig"
  | "NoMatchingModules"
  | "RankMismatch"
  | "ShapeMismatch"
  | "NonFinite"
  | "UnknownAdapter"
  | "DuplicateAdapter"
  | "InvalidArgument"
  | "NotMerged";

/** The one error class of `@lowrank/core`: a closed `code` and a message saying expected vs found. */
export class CoreError extends Error {
  override readonly name = "CoreError";
  constructor(
    readonly code: CoreErrorCode,
    message: string,
    /** Extra structured detail (e.g. the offending config field). */
    readonly detail?: Record<string, unknown>,
  ) {
    super(message);
  }
}

/** True for a `CoreError` from any copy of this package (checks the shape, not the prototype). */
export function isCoreError(error: unknown, code?: CoreErrorCode): error is CoreError {
  if (typeof error !== "object" || error === null) return false;
  const e = error as { name?: unknown; code?: unknown };
  return e.name === "CoreError" && typeof e.code === "string" && (code === undefined || e.code === code);
}
