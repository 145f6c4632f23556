// The server's errors are the runtime's one error type (../errors.ts): codes, HTTP statuses, responses.
export { errorResponse, HTTP_STATUS, HttpError } from "../errors.js";
