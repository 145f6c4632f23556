/** Every way `@lowrank/db` reports a failure. */
export type DbErrorCode = "InvalidEnv" | "InvalidDatabaseUrl" | "MigrationFailed" | "UnknownDriver";

/** The one error class of `@lowrank/db`. Check `code`, not only `instanceof`. */
export class DbError extends Error {
  override readonly name = "DbError";
  readonly code: DbErrorCode;

  constructor(code: DbErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** True for a `DbError` from any copy of this package. */
export function isDbError(error: unknown): error is DbError {
  return error instanceof Error && error.name === "DbError" && typeof (error as DbError).code === "string";
}
