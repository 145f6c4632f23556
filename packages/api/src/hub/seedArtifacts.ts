import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { adapters, and, eq } from "@lowrank/db";
import { z } from "zod";
import type { Session } from "../trpc.js";
import { registerBase } from "./bases.js";
import type { HubServices } from "./HubServices.js";
import { hubInputSchema } from "./hubInput.js";
import { publishVersion } from "./publish.js";
import { baseNameSchema, licenseSchema, tagSchema } from "./schemas.js";

export interface SeedReport {
  bases: string[];
  adapters: string[];
  skipped: string[];
}

export async function* once(data: Uint8Array): AsyncIterable<Uint8Array> {
  yield data;
}

/** The files of `dir` named in `names` that exist, as bytes. */
export function readFolder(dir: string, names: readonly string[]): Record<string, Uint8Array> {
  const out: Record<string, Uint8Array> = {};
  for (const n of names) if (existsSync(join(dir, n))) out[n] = new Uint8Array(readFileSync(join(dir, n)));
  return out;
}

export type DemoPublisher = (
  name: string,
  base: string,
  files: Record<string, Uint8Array>,
  extra?: { tags?: string[]; description?: string; license?: string },
) => Promise<void>;

/** Publishes `v1` of a demo adapter unless the demo account already has one by that name. */
export function demoPublisher(hub: HubServices, session: Session, report: SeedReport): DemoPublisher {
  const owner = session.user.username ?? "";
  return async (name, base, files, extra = {}) => {
    const { db } = hub.database;
    const [exists] = await db
      .select({ id: adapters.id })
      .from(adapters)
      .where(and(eq(adapters.owner, owner), eq(adapters.name, name)));
    if (exists) return;
    const uploaded = [];
    for (const [path, data] of Object.entries(files)) uploaded.push({ path, ...(await hub.blobs.put(once(data))) });
    try {
      await publishVersion(hub, session, { name, version: "v1", base, files: uploaded, ...extra });
      report.adapters.push(`${owner}/${name}`);
    } catch (error) {
      report.skipped.push(`${owner}/${name}: ${(error as Error).message.split("\n")[0]}`);
    }
  };
}

const adapterNameSchema = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,95}$/, "adapter name: lower-case [a-z0-9._-]");

/** `examples/artifacts/<task>/hub.json` (layout in examples/artifacts/README.md). */
export const hubJsonSchema = z.object({
  base: z.object({
    name: baseNameSchema,
    license: licenseSchema.optional(),
    description: z.string().max(10_000).default(""),
    pipeline_tag: z.string().max(64).optional(),
    /** Which input widget and preprocessing the playground uses (`image`, `hashed-text`, `text`...). */
    input: hubInputSchema.optional(),
  }),
  adapters: z
    .array(
      z.object({
        name: adapterNameSchema,
        description: z.string().max(10_000).optional(),
        tags: z.array(tagSchema).max(32).default([]),
        expected: z.array(z.unknown()).optional(),
      }),
    )
    .max(32)
    .default([]),
});
export type HubJson = z.infer<typeof hubJsonSchema>;

const PEFT_FILES = ["adapter_config.json", "adapter_model.safetensors", "README.md"];

/**
 * Registers the base of every `<dir>/<task>/hub.json` with all files of its `base/` folder except
 * the card (the manifest from config.json, else from model.safetensors' header), its `input` block
 * kept in the registered config for the playground; then publishes each adapter's PEFT folder.
 * Folders without hub.json are left alone; a broken one is reported in `skipped`.
 */
export async function seedArtifacts(
  hub: HubServices,
  dir: string,
  report: SeedReport,
  publish: DemoPublisher,
): Promise<void> {
  if (!existsSync(dir)) return;
  for (const task of readdirSync(dir).sort()) {
    const folder = join(dir, task);
    if (!statSync(folder).isDirectory() || !existsSync(join(folder, "hub.json"))) continue;
    let spec: HubJson;
    try {
      spec = hubJsonSchema.parse(JSON.parse(readFileSync(join(folder, "hub.json"), "utf8")));
      const baseDir = join(folder, "base");
      const files = readFolder(
        baseDir,
        readdirSync(baseDir).filter((f) => f !== "README.md" && statSync(join(baseDir, f)).isFile()),
      );
      if (!files["config.json"]) throw new Error("base/config.json is missing");
      const weights = [];
      for (const [path, data] of Object.entries(files)) weights.push({ path, ...(await hub.blobs.put(once(data))) });
      const config = JSON.parse(new TextDecoder().decode(files["config.json"])) as Record<string, unknown>;
      await registerBase(hub, {
        name: spec.base.name,
        config: spec.base.input ? { ...config, input: spec.base.input } : config,
        license: spec.base.license,
        description: spec.base.description,
        weights,
      });
      report.bases.push(spec.base.name);
    } catch (error) {
      const why =
        error instanceof z.ZodError
          ? `hub.json: ${z.prettifyError(error).replace(/\s*\n\s*/g, " ")}`
          : (error as Error).message.split("\n")[0];
      report.skipped.push(`examples/artifacts/${task}: ${why}`);
      continue;
    }
    for (const a of spec.adapters) {
      const adapterDir = join(folder, "adapters", a.name);
      if (!existsSync(join(adapterDir, "adapter_config.json"))) {
        report.skipped.push(`examples/artifacts/${task}: adapters/${a.name}/adapter_config.json is missing`);
        continue;
      }
      await publish(a.name, spec.base.name, readFolder(adapterDir, PEFT_FILES), {
        tags: a.tags,
        description: a.description,
        license: spec.base.license,
      });
    }
  }
}
