import { type Base, bases, eq } from "@lowrank/db";
import { type HfConfig, manifestFromConfig } from "@lowrank/formats";
import { TRPCError } from "@trpc/server";
import { z } from "zod";
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

/** Registers a base model by its config (idempotent for the same name and manifest). */
export async function registerBase(hub: HubServices, raw: RegisterBaseInput): Promise<Base> {
  const input = registerBaseInputSchema.parse(raw);
  let manifest: ReturnType<typeof manifestFromConfig>;
  try {
    manifest = manifestFromConfig(input.config as HfConfig);
  } catch (error) {
    throw new TRPCError({ code: "BAD_REQUEST", message: `config: ${(error as Error).message}`, cause: error });
  }
  for (const w of input.weights ?? []) {
    const stat = await hub.blobs.stat(w.sha256);
    if (!stat || stat.size !== w.size)
      throw new TRPCError({
        code: "BAD_REQUEST",
        message: `${w.path}: expected an uploaded blob ${w.sha256} of ${w.size} bytes, found none`,
      });
  }
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
