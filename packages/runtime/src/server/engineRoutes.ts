import path from "node:path";
import type { Engine } from "../engine/Engine.js";
import { RuntimeError } from "../errors.js";
import type { TextTokenizer } from "../tokenizer/loadTokenizer.js";
import { adapterFolder } from "./adapterFolder.js";
import { defineRoute, type Route } from "./defineRoute.js";
import { HttpError } from "./httpErrors.js";
import { forwardBody, generateBody, loadBody, unloadBody } from "./requestSchemas.js";

export interface EngineRoutesOptions {
  /** Folder that `POST /v1/adapters/load` may read adapters from (by `path`, or by a `name` not registered yet). */
  adaptersRoot?: string;
  /** Server-side resolver for names neither registered nor in `adaptersRoot` (trusted: not confined). */
  resolveAdapterPath?: (name: string) => string | undefined | Promise<string | undefined>;
  /** Whether the server is shutting down (healthz reports it). */
  closing?: () => boolean;
  /** The base's tokenizer: `/v1/generate` then takes `prompt` text and answers `text` too. */
  tokenizer?: TextTokenizer;
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
        const folder =
          body.path !== undefined
            ? await adapterFolder(options.adaptersRoot, body.path, "path")
            : await folderForName(body.name as string, options);
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
        const { tokenizer } = options;
        let inputIds = body.input_ids;
        if (inputIds === undefined) {
          if (!tokenizer)
            throw new RuntimeError(
              "BadRequest",
              "prompt: expected input_ids (this server has no tokenizer), found text",
              {
                field: "prompt",
              },
            );
          inputIds = tokenizer.encode(body.prompt as string);
          if (inputIds.length === 0)
            throw new RuntimeError(
              "BadRequest",
              "prompt: expected text that encodes to at least one token, found none",
              {
                field: "prompt",
              },
            );
        }
        const r = await engine.generate({
          ...target(body),
          inputIds,
          maxNewTokens: body.max_new_tokens ?? 16,
          eosTokenId: body.eos_token_id,
          temperature: body.temperature,
          topK: body.top_k,
          seed: body.seed,
          signal,
        });
        return {
          tokens: r.tokens,
          generated: r.generated,
          finish_reason: r.finishReason,
          ...(tokenizer ? { text: tokenizer.decode(r.generated, { skipSpecialTokens: true }) } : {}),
        };
      },
    }),
  ];
}

/** The base, adapter and scale a request runs with. */
function target(body: { base?: string; adapter?: string; scale?: number }) {
  return { base: body.base, adapter: body.adapter, scale: body.scale };
}

/**
 * The folder for an adapter name the engine does not know: inside `adaptersRoot` when it is there (confined
 * as paths are), else what the server's own resolver answers; `NotFound` when neither has it.
 */
async function folderForName(name: string, options: EngineRoutesOptions): Promise<string> {
  let notFound: unknown;
  if (options.adaptersRoot !== undefined) {
    try {
      return await adapterFolder(options.adaptersRoot, name, "name");
    } catch (error) {
      if ((error as { code?: unknown }).code !== "NotFound") throw error;
      notFound = error;
    }
  }
  const resolved = await options.resolveAdapterPath?.(name);
  if (resolved !== undefined) return path.resolve(resolved);
  throw (
    notFound ?? new HttpError("NotFound", `name: expected a registered adapter or a folder of one, found '${name}'`)
  );
}
