// The runtime's one error type lives in ../errors.ts; this path is kept for the modules that import it.
export { isRuntimeError, RUNTIME_ERROR_CODES, RuntimeError, type RuntimeErrorCode } from "../errors.js";
