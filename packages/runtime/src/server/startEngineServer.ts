import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { RuntimeError } from "../backend/errors.js";
import type { Engine } from "../engine/Engine.js";
import { schemaProblem } from "../schema/parseWithSchema.js";
import type { TextTokenizer } from "../tokenizer/loadTokenizer.js";
import { type Route, RouteStream } from "./defineRoute.js";
import { engineRoutes } from "./engineRoutes.js";
import { errorResponse, HttpError } from "./httpErrors.js";
import { type OpenAiOptions, openAiHandler } from "./openai.js";
import { sendJson } from "./sendJson.js";

export interface EngineServerOptions {
  engine: Engine;
  /** Default 127.0.0.1 (loopback only). */
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Largest request body accepted (default 8 MiB). */
  maxBodyBytes?: number;
  /**
   * Folder `POST /v1/adapters/load` may read adapter folders from, by relative `path` or by a `name` the
   * engine does not know yet; anything resolving outside it (absolute, `..`, symlinks out) answers 403.
   * Without it, loading by path is refused.
   */
  adaptersRoot?: string;
  /** More routes (e.g. OpenAI-compatible endpoints), each validated by its own schema; they may not reuse a method and path. */
  routes?: readonly Route[];
  /**
   * Resolves `POST /v1/adapters/load {name}` for a name the engine does not know and `adaptersRoot` does not
   * hold (e.g. an adapter pulled from a hub into a cache folder). Server-side code: its answer is trusted.
   */
  resolveAdapterPath?: (name: string) => string | undefined | Promise<string | undefined>;
  /** The base's tokenizer, so `/v1/generate` takes `prompt` text (default: `openai.tokenizer`). */
  tokenizer?: TextTokenizer;
  /** OpenAI-compatible generation routes (/v1/models, /v1/completions, /v1/chat/completions) over a scheduler. */
  openai?: OpenAiOptions;
}

export interface EngineServer {
  url: string;
  host: string;
  port: number;
  /** Requests being handled right now. */
  inFlight(): number;
  /** Stops accepting connections, lets in-flight requests finish, then closes the engine. */
  close(): Promise<void>;
}

/**
 * The JSON HTTP API over an {@link Engine} (node:http): the routes of `engineRoutes` plus `options.routes`.
 * Every body is checked against its route's schema before any work; errors answer `{error:{code,message}}`
 * with a matching status; a client that disconnects cancels its request.
 */
export async function startEngineServer(options: EngineServerOptions): Promise<EngineServer> {
  const http = await import("node:http");
  const { engine } = options;
  const host = options.host ?? "127.0.0.1";
  const maxBody = options.maxBodyBytes ?? 8 * 2 ** 20;
  let inFlight = 0;
  let closing = false;
  let drained: (() => void) | undefined;
  // /v1/generate (Engine.generate) and the OpenAI routes share one scheduler, so their requests batch together.
  if (options.openai?.scheduler) engine.useGenerationScheduler(options.openai.scheduler);
  const openai = options.openai ? openAiHandler(engine, options.openai) : undefined;

  const routes = new Map<string, Route>();
  const builtIn = engineRoutes(engine, {
    adaptersRoot: options.adaptersRoot,
    resolveAdapterPath: options.resolveAdapterPath,
    closing: () => closing,
    tokenizer: options.tokenizer ?? options.openai?.tokenizer,
  });
  for (const route of [...builtIn, ...(options.routes ?? [])]) {
    const key = `${route.method} ${route.path}`;
    if (routes.has(key))
      throw new RuntimeError("InvalidArgument", `routes: expected one handler per route, found two for ${key}`);
    routes.set(key, route);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const ctl = new AbortController();
    res.on("close", () => {
      if (!res.writableFinished) ctl.abort();
    });
    inFlight++;
    try {
      const url = new URL(req.url ?? "/", "http://localhost");
      if (openai?.matches(url.pathname) && !closing) {
        await openai(req, res, ctl.signal);
        return;
      }
      const key = `${req.method} ${url.pathname}`;
      const route = routes.get(key);
      if (!route) {
        const known = [...routes.keys()].some((k) => k.endsWith(` ${url.pathname}`));
        throw new HttpError(
          known ? "MethodNotAllowed" : "NotFound",
          known ? `${req.method} is not allowed on ${url.pathname}` : `no route ${url.pathname}`,
        );
      }
      if (closing) throw new HttpError("Cancelled", "the server is shutting down");
      const raw = route.method === "POST" ? await readJson(req, maxBody) : {};
      const parsed = route.body ? route.body.safeParse(raw) : { success: true as const, data: raw };
      if (!parsed.success) throw new HttpError("BadRequest", schemaProblem(parsed.error, raw));
      const answer = await route.handle(parsed.data, { signal: ctl.signal });
      if (answer instanceof RouteStream) await stream(res, answer, ctl.signal);
      else sendJson(res, 200, answer);
    } catch (error) {
      const { status, body } = errorResponse(error);
      sendJson(res, status, body);
    } finally {
      inFlight--;
      if (inFlight === 0) drained?.();
    }
  }

  const server: Server = http.createServer((req, res) => void handle(req, res));
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : (options.port ?? 0);
  let closed: Promise<void> | undefined;
  return {
    host,
    port,
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
    inFlight: () => inFlight,
    close: () =>
      (closed ??= (async () => {
        closing = true;
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        if (inFlight > 0) await new Promise<void>((resolve) => (drained = resolve));
        await options.openai?.scheduler?.close();
        await engine.close();
        server.closeAllConnections();
        await stopped;
      })()),
  };
}

/** Writes a streamed answer; a client that goes away stops it (the iterator is returned early). */
async function stream(res: ServerResponse, answer: RouteStream, signal: AbortSignal): Promise<void> {
  res.writeHead(200, { "content-type": answer.contentType, "cache-control": "no-cache" });
  try {
    for await (const chunk of answer.chunks) {
      if (signal.aborted || res.destroyed) break;
      if (!res.write(chunk))
        await new Promise((resolve) => {
          res.once("drain", resolve);
          res.once("close", resolve);
        });
    }
  } finally {
    res.end(); // also after a failure midway: the status is sent, so the answer just stops
  }
}

async function readJson(req: IncomingMessage, max: number): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > max) throw new HttpError("PayloadTooLarge", `body: expected at most ${max} bytes, found more`);
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return {};
  let value: unknown;
  try {
    value = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch (error) {
    throw new HttpError("BadRequest", `body: expected JSON, found unparseable text (${(error as Error).message})`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new HttpError("BadRequest", "body: expected a JSON object");
  return value;
}
