import { and, bases, type Database, eq, versionFiles } from "@lowrank/db";
import { PEFT_CONFIG_FILE, PEFT_WEIGHTS_FILE } from "@lowrank/formats";
import {
  type AdapterModuleWeights,
  type AdapterWeights,
  BASE_ADAPTER,
  baseModelFromBytes,
  Engine,
  type InitBackendOptions,
  initBackend,
  isRuntimeError,
  peftAdapterFromBytes,
} from "@lowrank/runtime";
import * as tf from "@tensorflow/tfjs-core";
import { TRPCError } from "@trpc/server";
import { z } from "zod";
import type { BlobStore } from "../blobs/BlobStore.js";
import { lookupRepo } from "./repo.js";
import { baseNameSchema } from "./schemas.js";
import { transliterateOnEngine } from "./transliterate.js";

export const inferenceInputSchema = z
  .object({
    base: baseNameSchema,
    /** None (the base alone), one adapter, or two mixed with their scales. */
    adapters: z
      .array(
        z.object({
          ref: z
            .string()
            .regex(
              /^[a-z0-9][a-z0-9._-]*\/[a-z0-9][a-z0-9._-]*(?:@[A-Za-z0-9][A-Za-z0-9._-]{0,63})?$/,
              "adapter: OWNER/NAME or OWNER/NAME@VERSION",
            ),
          scale: z.number().finite().min(-4).max(4).default(1),
        }),
      )
      .max(2, "at most two adapters at once")
      .default([]),
    /** Token ids for language models. */
    inputIds: z.array(z.int().min(0).max(1_000_000)).min(1).max(64).optional(),
    /** Features for other bases (flat, with `shape`). */
    input: z.array(z.number().finite()).min(1).max(4096).optional(),
    shape: z.array(z.int().min(1).max(4096)).max(4).optional(),
    /** A word for transliteration bases (CharSeq2Seq): the answer is its greedy transliteration. */
    word: z.string().min(1).max(64).optional(),
  })
  .refine(
    (v) => [v.inputIds, v.input, v.word].filter((x) => x !== undefined).length === 1,
    "give exactly one of inputIds, input and word",
  );
export type InferenceInput = z.input<typeof inferenceInputSchema>;

export interface InferenceResult {
  shape: number[];
  /** Output of the last position (language models: next-token logits), or the whole output when small. */
  output: number[];
  adapters: { ref: string; digest: string; scale: number }[];
  batchSize: number;
  /** The transliteration of `word` (then `output` is empty). */
  text?: string;
}

/** Runs a base with adapters inside the hub process. */
export interface Inference {
  run(input: InferenceInput): Promise<InferenceResult>;
  close(): Promise<void>;
}

const MAX_OUTPUT = 65_536;

/**
 * One `@lowrank/runtime` engine per hub process: each base with weights on the hub is loaded once and
 * kept frozen; adapters are read from the blob store by digest into the engine's LRU cache and
 * hot-swapped per request. Two adapters run as one: their factors concatenated along the rank, each B
 * multiplied by its scale, which is exactly the sum of the two LoRA terms.
 */
export function createInference(
  deps: { db: Database; blobs: BlobStore },
  options: { cacheBytes?: number; backend?: InitBackendOptions } = {},
): Inference {
  let engine: Engine | undefined;
  const ready = (async () => {
    await initBackend(options.backend ?? {});
    engine = new Engine({ cacheBytes: options.cacheBytes ?? 256 * 1024 ** 2, maxWaitMs: 1 });
    return engine;
  })();
  ready.catch(() => {});
  const loadedBases = new Set<string>();
  const readPeft = async (versionId: string) => {
    const files = await deps.db
      .select()
      .from(versionFiles)
      .where(and(eq(versionFiles.versionId, versionId), eq(versionFiles.role, "peft")));
    const by = (p: string) => files.find((f) => f.path === p);
    const config = by(PEFT_CONFIG_FILE);
    const weights = by(PEFT_WEIGHTS_FILE);
    if (!config || !weights)
      throw new TRPCError({ code: "INTERNAL_SERVER_ERROR", message: "version has no PEFT files" });
    return { config: await deps.blobs.read(config.sha256), weights: await deps.blobs.read(weights.sha256) };
  };

  return {
    async run(raw) {
      const input = inferenceInputSchema.parse(raw);
      const e = await ready;
      const [base] = await deps.db.select().from(bases).where(eq(bases.name, input.base));
      if (!base) throw new TRPCError({ code: "NOT_FOUND", message: `base ${input.base}: not registered on this hub` });
      const config = base.weightFiles.find((w) => w.path === "config.json");
      const weights = base.weightFiles.find((w) => w.path === "model.safetensors");
      if (!config || !weights) {
        throw new TRPCError({
          code: "PRECONDITION_FAILED",
          message: `base ${base.name} has no weights on this hub (only its manifest); inference needs config.json and model.safetensors`,
        });
      }
      const baseKey = base.id;
      if (!loadedBases.has(baseKey)) {
        e.addBase(baseKey, async () =>
          baseModelFromBytes(await deps.blobs.read(config.sha256), await deps.blobs.read(weights.sha256)),
        );
        loadedBases.add(baseKey);
      }
      const chosen: { ref: string; scale: number; digest: string; versionId: string }[] = [];
      for (const a of input.adapters) {
        const [owner = "", rest = ""] = a.ref.split("/");
        const [name = "", version] = rest.split("@");
        const found = await lookupRepo(deps.db, owner, name, version);
        if (found.kind !== "ok")
          throw new TRPCError({ code: "NOT_FOUND", message: `adapter ${a.ref}: ${found.kind.replace(/-/g, " ")}` });
        if (found.adapter.baseId !== base.id) {
          throw new TRPCError({
            code: "BAD_REQUEST",
            message: `adapter ${a.ref} is for base ${found.adapter.baseModel}, not ${base.name}`,
          });
        }
        chosen.push({ ref: a.ref, scale: a.scale, digest: found.version.digest, versionId: found.version.id });
      }
      let adapter = BASE_ADAPTER;
      let scale = 1;
      const known = new Set(e.adapters().map((x) => x.name));
      if (chosen.length === 1) {
        const [c] = chosen as [(typeof chosen)[number]];
        adapter = c.digest;
        scale = c.scale;
        if (!known.has(adapter)) {
          e.registerAdapter(
            adapter,
            {
              kind: "custom",
              load: async () => {
                const f = await readPeft(c.versionId);
                return peftAdapterFromBytes(c.ref, f.config, f.weights);
              },
            },
            { digest: c.digest },
          );
        }
      } else if (chosen.length === 2) {
        adapter = chosen.map((c) => `${c.digest}*${c.scale}`).join("+");
        if (!known.has(adapter)) {
          e.registerAdapter(adapter, {
            kind: "custom",
            load: async () => {
              const parts = [];
              for (const c of chosen) {
                const f = await readPeft(c.versionId);
                parts.push({ weights: peftAdapterFromBytes(c.ref, f.config, f.weights), scale: c.scale });
              }
              return concatAdapters(parts);
            },
          });
        }
      }
      const flat = input.inputIds ?? input.input ?? [];
      let result: Awaited<ReturnType<Engine["forward"]>>;
      try {
        if (input.word !== undefined) {
          const text = await transliterateOnEngine(e, {
            base: baseKey,
            baseName: base.name,
            adapter,
            scale,
            word: input.word,
          });
          return {
            shape: [0],
            output: [],
            adapters: chosen.map(({ ref, digest, scale }) => ({ ref, digest, scale })),
            batchSize: 1,
            text,
          };
        }
        result = await e.forward({ base: baseKey, adapter, scale, input: flat, shape: input.shape ?? [flat.length] });
      } catch (error) {
        if (isRuntimeError(error)) throw new TRPCError({ code: "BAD_REQUEST", message: error.message, cause: error });
        throw error;
      }
      const last = result.shape[result.shape.length - 1] ?? result.data.length;
      const output =
        result.data.length <= MAX_OUTPUT
          ? Array.from(result.data)
          : Array.from(result.data.subarray(result.data.length - last));
      return {
        shape: result.shape,
        output,
        adapters: chosen.map(({ ref, digest, scale }) => ({ ref, digest, scale })),
        batchSize: result.batchSize,
      };
    },
    async close() {
      await (await ready.catch(() => undefined))?.close();
    },
  };
}

/** Two adapters as one: A stacked along the rank, each B times its scale and scaling (the LoRA terms add up). */
function concatAdapters(parts: { weights: AdapterWeights; scale: number }[]): AdapterWeights {
  const modules = new Map<string, AdapterModuleWeights>();
  const names = new Set(parts.flatMap((p) => [...p.weights.modules.keys()]));
  for (const name of names) {
    const present = parts.flatMap((p) => {
      const m = p.weights.modules.get(name);
      return m ? [{ m, s: p.scale }] : [];
    });
    modules.set(
      name,
      tf.tidy(() => ({
        a: tf.concat(
          present.map(({ m }) => m.a),
          0,
        ) as tf.Tensor2D,
        b: tf.concat(
          present.map(({ m, s }) => tf.mul(m.b, m.scaling * s)),
          1,
        ) as tf.Tensor2D,
        scaling: 1,
      })),
    );
  }
  for (const p of parts) for (const m of p.weights.modules.values()) tf.dispose([m.a, m.b]);
  return { modules };
}
