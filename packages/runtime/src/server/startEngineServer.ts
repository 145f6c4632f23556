import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { Engine } from "../engine/Engine.js";
import { errorResponse, HttpError } from "./httpErrors.js";
import { type OpenAiOptions, openAiHandler } from "./openai.js";

export interface EngineServerOptions {
  engine: Engine;
  /** Default 127.0.0.1 (loopback only). */
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Largest request body accepted (default 8 MiB). */
  maxBodyBytes?: number;
  /**
   * Resolves `POST /v1/adapters/load {name}` for a name the engine does not know yet (a sub-folder of
   * --adapters, or an adapter pulled from a hub into a cache folder).
   */
  resolveAdapterPath?: (name: string) => string | undefined | Promise<string | undefined>;
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

type Json = Record<string, unknown>;

/**
 * The JSON HTTP API over an {@link Engine} (node:http): GET /healthz, GET /v1/adapters,
 * POST /v1/adapters/load {path|name}, POST /v1/adapters/unload {name}, POST /v1/forward, POST /v1/generate.
 * Errors answer `{error:{code,message}}` with a matching status; a client that disconnects cancels its request.
 */
export async function startEngineServer(options: EngineServerOptions): Promise<EngineServer> {
  const http = await import("node:http");
  const path = await import("node:path");
  const { engine } = options;
  const host = options.host ?? "127.0.0.1";
  const maxBody = options.maxBodyBytes ?? 8 * 2 ** 20;
  let inFlight = 0;
  let closing = false;
  let drained: (() => void) | undefined;
  const openai = options.openai ? openAiHandler(engine, options.openai) : undefined;

  const routes: Record<string, (body: Json, signal: AbortSignal) => Promise<unknown>> = {
    "GET /healthz": async () => ({ ok: !closing, bases: engine.baseIds(), stats: engine.stats() }),
    "GET /v1/adapters": async () => ({ adapters: engine.adapters() }),
    "POST /v1/adapters/load": async (body) => {
      const name = optionalString(body, "name");
      let dir = optionalString(body, "path");
      if (!dir && !name) throw new HttpError("BadRequest", "body: expected {path} or {name}, found neither");
      if (!dir && name && !engine.adapters().some((a) => a.name === name || a.digest === name))
        dir = await options.resolveAdapterPath?.(name);
      if (dir)
        engine.registerAdapter(name ?? path.basename(path.resolve(dir)), { kind: "folder", path: path.resolve(dir) });
      const adapter = await engine.loadAdapter(
        name ?? path.basename(path.resolve(dir as string)),
        optionalString(body, "base"),
      );
      return { adapter };
    },
    "POST /v1/adapters/unload": async (body) => {
      const name = optionalString(body, "name");
      if (!name) throw new HttpError("BadRequest", "body: expected {name}, found none");
      return { unloaded: engine.unloadAdapter(name, { forget: body.forget === true }) };
    },
    "POST /v1/forward": async (body, signal) => {
      const ids = body.input_ids ?? body.input;
      if (!Array.isArray(ids) || !ids.every((v) => typeof v === "number")) {
        throw new HttpError("BadRequest", "body: expected input_ids (or input) as an array of numbers");
      }
      const shape = body.shape === undefined ? undefined : (body.shape as number[]);
      const r = await engine.forward({
        base: optionalString(body, "base"),
        adapter: optionalString(body, "adapter"),
        scale: optionalNumber(body, "scale"),
        input: ids as number[],
        shape,
        signal,
      });
      return {
        output: Array.from(r.data),
        shape: r.shape,
        adapter: r.adapter,
        digest: r.digest ?? null,
        batch_size: r.batchSize,
      };
    },
    "POST /v1/generate": async (body, signal) => {
      const ids = body.input_ids;
      if (!Array.isArray(ids) || ids.length === 0 || !ids.every((v) => Number.isInteger(v))) {
        throw new HttpError("BadRequest", "body: expected input_ids as a non-empty array of integers");
      }
      const maxNew = optionalNumber(body, "max_new_tokens") ?? 16;
      if (!Number.isInteger(maxNew) || maxNew < 0 || maxNew > 1024)
        throw new HttpError("BadRequest", `max_new_tokens: expected an integer in 0..1024, found ${maxNew}`);
      const r = await engine.generate({
        base: optionalString(body, "base"),
        adapter: optionalString(body, "adapter"),
        scale: optionalNumber(body, "scale"),
        inputIds: ids as number[],
        maxNewTokens: maxNew,
        eosTokenId: optionalNumber(body, "eos_token_id"),
        temperature: optionalNumber(body, "temperature"),
        topK: optionalNumber(body, "top_k"),
        seed: optionalNumber(body, "seed"),
        signal,
      });
      return { tokens: r.tokens, generated: r.generated };
    },
  };

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
      const route = routes[key];
      if (!route) {
        const known = Object.keys(routes).some((k) => k.endsWith(` ${url.pathname}`));
        throw new HttpError(
          known ? "MethodNotAllowed" : "NotFound",
          known ? `${req.method} is not allowed on ${url.pathname}` : `no route ${url.pathname}`,
        );
      }
      if (closing) throw new HttpError("Cancelled", "the server is shutting down");
      const body = req.method === "POST" ? await readJson(req, maxBody) : {};
      send(res, 200, await route(body, ctl.signal));
    } catch (error) {
      const { status, body } = errorResponse(error);
      send(res, status, body);
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
        await options.openai?.scheduler.close();
        await engine.close();
        server.closeAllConnections();
        await stopped;
      })()),
  };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}

async function readJson(req: IncomingMessage, max: number): Promise<Json> {
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
  return value as Json;
}

function optionalString(body: Json, key: string): string | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw new HttpError("BadRequest", `${key}: expected a string, found ${JSON.stringify(v)}`);
  return v;
}

function optionalNumber(body: Json, key: string): number | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isFinite(v))
    throw new HttpError("BadRequest", `${key}: expected a finite number, found ${JSON.stringify(v)}`);
  return v;
}
