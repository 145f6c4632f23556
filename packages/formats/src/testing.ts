import { isFormatError } from "./errors.js";

/**
 * Test helper for property tests: "ok" when `fn` returns, the code when it throws a FormatError; any
 * other exception is rethrown (wrapped) so the property fails.
 */
export function formatOutcome(fn: () => unknown): string {
  try {
    fn();
    return "ok";
  } catch (e) {
    if (!isFormatError(e)) throw new Error(`threw a non-FormatError: ${String(e)}`, { cause: e });
    return e.code;
  }
}
