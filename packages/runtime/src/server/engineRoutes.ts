import path from "node:path";
import type { Engine } from "../engine/Engine.js";
import { adapterFolder } from "./adapterFolder.js";
import { defineRoute, type Route } from "./defineRoute.js";
import { forwardBody, generateBody, loadBody, unloadBody } from "./requestSchemas.js";

export interface EngineRoutesOptions {
  /** Folder that `POST /v1/adapters/load` may read adapters from (by `path`, or by a `name` not registered yet). */
  adaptersRoot?: string;
  /** Whether the server is shutting down (healthz reports it). */
  closing?: () => boolean;
}

/**
 * The engine's JSON API: GET /healthz, GET /v1/adapters, POST /v1/adapters/load {path|name},
 * POST /v1/adapters/unload {name}, POST /v1/forward, POST /v1/generate.
 */
export function engineRoutes(engine: Engine, options: EngineRoutesOptions = {}): Route[] {
  return [
    defineRoute({
      method: "GET",
      path: "/healthz",
      handle: async () => ({ ok: !options.closing?.(), bases: engine.baseIds(), stats: engine.stats() }),
    }),
    defineRoute({ method: "GET", path: "/v1/adapters", handle: async () => ({ adapters: engine.adapters() }) }),
    defineRoute({
      method: "POST",
      path: "/v1/adapters/load",
      body: loadBody,
      handle: async (body) => {
        const known =
          body.path === undefined && engine.adapters().some((a) => a.name === body.name || a.digest === body.name);
        if (known) return { adapter: await engine.loadAdapter(body.name as string, body.base) };
        const requested = (body.path ?? body.name) as string;
        const folder = await adapterFolder(options.adaptersRoot, requested, body.path === undefined ? "name" : "path");
        const name = body.name ?? path.basename(folder);
        return { adapter: await engine.addAdapter(name, { kind: "folder", path: folder }, body.base) };
      },
    }),
    defineRoute({
      method: "POST",
      path: "/v1/adapters/unload",
      body: unloadBody,
      handle: async (body) => ({ unloaded: engine.unloadAdapter(body.name, { forget: body.forget === true }) }),
    }),
    defineRoute({
      method: "POST",
      path: "/v1/forward",
      body: forwardBody,
      handle: async (body, { signal }) => {
        const r = await engine.forward({
          ...target(body),
          input: (body.input_ids ?? body.input) as number[],
          shape: body.shape,
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
    }),
    defineRoute({
      method: "POST",
      path: "/v1/generate",
      body: generateBody,
      handle: async (body, { signal }) => {
        const r = await engine.generate({
          ...target(body),
          inputIds: body.input_ids,
          maxNewTokens: body.max_new_tokens ?? 16,
          eosTokenId: body.eos_token_id,
          temperature: body.temperature,
          topK: body.top_k,
          seed: body.seed,
          signal,
        });
        return { tokens: r.tokens, generated: r.generated };
      },
    }),
  ];
}

/** The base, adapter and scale a request runs with. */
function target(body: { base?: string; adapter?: string; scale?: number }) {
  return { base: body.base, adapter: body.adapter, scale: body.scale };
}
