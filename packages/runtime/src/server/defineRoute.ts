import type { z } from "zod";

/** What a route handler gets besides its parsed body. */
export interface RouteContext {
  /** Aborted when the client disconnects before the answer is sent. */
  signal: AbortSignal;
}

/**
 * One HTTP route of the engine server: `body` (a zod schema) is checked before `handle` runs, so a handler
 * only ever sees valid input; a body that fails answers 400 `BadRequest` naming the field. GET routes
 * take no body. `handle` returns the JSON answer (200), a `RouteStream` (200, written chunk by chunk, e.g.
 * server-sent events), or throws a typed error (its `code` picks the status).
 */
export interface Route<S extends z.ZodType = z.ZodType> {
  method: "GET" | "POST";
  path: string;
  body?: S;
  handle(body: z.output<S>, ctx: RouteContext): Promise<unknown>;
}

/** Types a route's handler from its schema (`defineRoute({ method, path, body: schema, handle })`). */
export function defineRoute<S extends z.ZodType>(route: Route<S>): Route {
  return route as unknown as Route;
}

/** A streamed answer: `chunks` are written as they come, with `contentType`; the stream ends with them. */
export class RouteStream {
  constructor(
    readonly chunks: AsyncIterable<string | Uint8Array>,
    readonly contentType = "text/event-stream; charset=utf-8",
  ) {}
}
