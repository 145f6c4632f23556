import { type Base, bases, eq } from "@lowrank/db";
import {
  type BaseManifest,
  type ByteSource,
  type HfConfig,
  manifestFromConfig,
  manifestFromHeader,
  openSafetensorsSource,
} from "@lowrank/formats";
import { TRPCError } from "@trpc/server";
import { z } from "zod";
import { BlobError } from "../blobs/BlobError.js";
import type { BlobStore } from "../blobs/BlobStore.js";
import type { HubServices } from "./HubServices.js";
import { baseNameSchema, digestSchema, filePathSchema, licenseSchema } from "./schemas.js";

export const registerBaseInputSchema = z.object({
  name: baseNameSchema,
  /** The Hugging Face `config.json`: the manifest (module names and shapes) is computed from it. */
  config: z.record(z.string(), z.unknown()),
  license: licenseSchema.optional(),
  description: z.string().max(10_000).optional(),
  /** Weight files already uploaded (`PUT /api/uploads`), for inference. */
  weights: z
    .array(z.object({ path: filePathSchema, sha256: digestSchema, size: z.int().min(0) }))
    .max(64)
    .optional(),
});
export type RegisterBaseInput = z.infer<typeof registerBaseInputSchema>;

/** A stored blob as a ranged byte source, so a safetensors header is read without its weights. */
export function blobByteSource(blobs: BlobStore, sha256: string, size: number): ByteSource {
  return {
    size,
    async read(offset, length) {
      if (length === 0) return new Uint8Array(0);
      const stream = await blobs.stream(sha256, { start: offset, end: offset + length - 1 });
      const out = new Uint8Array(length);
      let at = 0;
      for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) {
        const n = Math.min(chunk.length, length - at);
        if (n > 0) out.set(chunk.subarray(0, n), at);
        at += chunk.length;
      }
      if (at < length)
        throw new BlobError(
          "Truncated",
          `blob ${sha256}: expected ${length} bytes at offset ${offset}, the store gave ${at}`,
        );
      if (at > length)
        throw new BlobError(
          "InvalidRange",
          `blob ${sha256}: expected ${length} bytes at offset ${offset}, the store gave ${at} (range ignored)`,
        );
      return out;
    },
  };
}

/**
 * The manifest of a base: from its config alone where the architecture is known (GPT-2, BERT, Llama),
 * else from the safetensors header of its uploaded `model.safetensors` (header only; a tfjs Dense
 * stack gives the `DenseClassifier` manifest).
 */
async function manifestOf(hub: HubServices, input: RegisterBaseInput): Promise<BaseManifest> {
  const config = input.config as HfConfig;
  let fromConfig: unknown;
  try {
    return manifestFromConfig(config);
  } catch (error) {
    fromConfig = error;
  }
  const weights = input.weights?.find((w) => w.path === "model.safetensors");
  if (!weights) {
    throw new TRPCError({
      code: "BAD_REQUEST",
      message: `config: ${(fromConfig as Error).message}; without a known architecture, upload model.safetensors so the manifest is read from its header`,
      cause: fromConfig,
    });
  }
  try {
    const lazy = await openSafetensorsSource(blobByteSource(hub.blobs, weights.sha256, weights.size));
    try {
      return manifestFromHeader(config, lazy.tensors);
    } finally {
      await lazy.close();
    }
  } catch (error) {
    throw new TRPCError({
      code: "BAD_REQUEST",
      message: `model.safetensors: ${(error as Error).message}`,
      cause: error,
    });
  }
}

/**
 * Registers a base model (idempotent for the same name and manifest): by its config, or by config and
 * the header of its uploaded weights when the config alone has no manifest.
 */
export async function registerBase(hub: HubServices, raw: RegisterBaseInput): Promise<Base> {
  const input = registerBaseInputSchema.parse(raw);
  for (const w of input.weights ?? []) {
    const stat = await hub.blobs.stat(w.sha256);
    if (!stat || stat.size !== w.size)
      throw new TRPCError({
        code: "BAD_REQUEST",
        message: `${w.path}: expected an uploaded blob ${w.sha256} of ${w.size} bytes, found none`,
      });
  }
  const manifest = await manifestOf(hub, input);
  const { db } = hub.database;
  const [existing] = await db.select().from(bases).where(eq(bases.name, input.name));
  if (existing) {
    if (existing.manifestDigest !== manifest.digest) {
      throw new TRPCError({
        code: "CONFLICT",
        message: `base ${input.name} is registered with another manifest (${existing.manifestDigest.slice(0, 12)}); bases never change`,
      });
    }
    return existing;
  }
  const [row] = await db
    .insert(bases)
    .values({
      name: input.name,
      architecture: manifest.architecture,
      modelType: manifest.modelType,
      config: input.config,
      manifest: manifest as unknown as Record<string, unknown>,
      manifestDigest: manifest.digest,
      license: input.license,
      description: input.description ?? "",
      weightFiles: input.weights ?? [],
    })
    .onConflictDoNothing({ target: bases.name })
    .returning();
  if (row) return row;
  const [raced] = await db.select().from(bases).where(eq(bases.name, input.name));
  return raced!;
}
