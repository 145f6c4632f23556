/** HTTP status for each error code the server can answer with. */
export const HTTP_STATUS: Readonly<Record<string, number>> = {
  BadRequest: 400,
  InvalidArgument: 400,
  Forbidden: 403,
  NotFound: 404,
  MethodNotAllowed: 405,
  PayloadTooLarge: 413,
  AdapterMismatch: 422,
  AdapterLoadFailed: 422,
  Cancelled: 503,
  Overloaded: 503,
  ModelLoadFailed: 500,
  BackendUnavailable: 500,
  BackendInitFailed: 500,
  BackendInitTimeout: 503,
};

/** `{ status, body }` for anything thrown: typed errors keep their code, others become `Internal` (500). */
export function errorResponse(error: unknown): { status: number; body: { error: { code: string; message: string } } } {
  const e = (typeof error === "object" && error !== null ? error : {}) as { code?: unknown; message?: unknown };
  const code = typeof e.code === "string" ? e.code : "Internal";
  const message = typeof e.message === "string" ? e.message : String(error);
  return { status: HTTP_STATUS[code] ?? 500, body: { error: { code, message } } };
}

/** An error the router raises itself (bad JSON, unknown route...). */
export class HttpError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
