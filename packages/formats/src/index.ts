export {
  FORMAT_ERROR_CODES,
  FormatError,
  type FormatErrorCode,
  isFormatError,
  type Result,
  toResult,
  toResultAsync,
} from "./errors.js";
