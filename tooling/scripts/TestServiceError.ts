/** Every way a test service (PostgreSQL, Chromium) reports a failure. */
export type TestServiceErrorCode = "BinaryMissing" | "StartFailed";

/** The one error class of `@lowrank/test-services`. */
export class TestServiceError extends Error {
  override readonly name = "TestServiceError";
  readonly code: TestServiceErrorCode;

  constructor(code: TestServiceErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
