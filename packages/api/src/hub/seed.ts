import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { adapters, and, bases, eq, findRepoRoot, user } from "@lowrank/db";
import { type HfConfig, manifestFromConfig, parseManifest } from "@lowrank/formats";
import type { Session } from "../trpc.js";
import { registerBase } from "./bases.js";
import { peftFilesFor } from "./demo.js";
import type { HubServices } from "./HubServices.js";
import { publishVersion } from "./publish.js";

/** The account that owns the demo bases and adapters. It has no password: nobody signs in as it. */
export const DEMO_OWNER = "lowrank";

const GPT2_CONFIG = {
  architectures: ["GPT2LMHeadModel"],
  model_type: "gpt2",
  n_embd: 768,
  n_head: 12,
  n_layer: 12,
  n_positions: 1024,
  n_inner: null,
  vocab_size: 50257,
};

async function* once(data: Uint8Array): AsyncIterable<Uint8Array> {
  yield data;
}

function readFolder(dir: string, names: readonly string[]): Record<string, Uint8Array> {
  const out: Record<string, Uint8Array> = {};
  for (const n of names) if (existsSync(join(dir, n))) out[n] = new Uint8Array(readFileSync(join(dir, n)));
  return out;
}

export interface SeedReport {
  bases: string[];
  adapters: string[];
  skipped: string[];
}

/**
 * Makes a fresh hub not empty, idempotently: the GPT-2 and BERT fixtures as bases (with weights, so
 * the playground can run them), GPT-2 and DialoGPT-small by config, the real PEFT adapters among the
 * fixtures, a demo adapter per tiny base, and the example recipes' adapters when `examples/out`
 * holds them. Everything is owned by the `lowrank` account. Already-present items are left alone.
 */
export async function seedDemo(hub: HubServices, root = findRepoRoot()): Promise<SeedReport> {
  const { db } = hub.database;
  const report: SeedReport = { bases: [], adapters: [], skipped: [] };
  const fixtures = join(root, "fixtures");
  if (!existsSync(fixtures)) return { ...report, skipped: [`no fixtures folder in ${root}`] };
  await db
    .insert(user)
    .values({
      id: "lowrank-demo",
      name: "lowrank demo",
      email: "demo@lowrank.invalid",
      username: DEMO_OWNER,
      role: "admin",
    })
    .onConflictDoNothing();
  const [owner] = await db.select().from(user).where(eq(user.username, DEMO_OWNER));
  if (!owner) return { ...report, skipped: ["the lowrank user could not be created"] };
  const session: Session = { user: { id: owner.id, name: owner.name, username: owner.username, role: "admin" } };

  const baseFolders: [string, string, string][] = [
    ["gpt2-tiny", "hf-gpt2-tiny", "mit"],
    ["gpt2-lmhead-tiny", "hf-gpt2-lmhead-tiny", "mit"],
    ["bert-tiniest", "hf-bert-tiniest", "apache-2.0"],
  ];
  for (const [name, folder, license] of baseFolders) {
    const dir = join(fixtures, folder);
    if (!existsSync(join(dir, "config.json"))) {
      report.skipped.push(`base ${name}: ${dir} has no config.json`);
      continue;
    }
    const files = readFolder(
      dir,
      readdirSync(dir).filter((f) => !f.endsWith(".md") && !f.endsWith(".txt")),
    );
    const weights = [];
    for (const [path, data] of Object.entries(files)) weights.push({ path, ...(await hub.blobs.put(once(data))) });
    const config = JSON.parse(new TextDecoder().decode(files["config.json"]));
    await registerBase(hub, {
      name,
      config,
      license,
      description: `Tiny test checkpoint (${folder}) for the playground.`,
      weights,
    });
    report.bases.push(name);
  }
  for (const name of ["openai-community/gpt2", "microsoft/DialoGPT-small"]) {
    await registerBase(hub, {
      name,
      config: GPT2_CONFIG,
      license: "mit",
      description: "Registered by config: adapters are checked against its manifest; no weights on this hub.",
    });
    report.bases.push(name);
  }

  const publishFiles = async (
    name: string,
    base: string,
    files: Record<string, Uint8Array>,
    extra: { tags?: string[]; description?: string } = {},
  ) => {
    const [exists] = await db
      .select({ id: adapters.id })
      .from(adapters)
      .where(and(eq(adapters.owner, DEMO_OWNER), eq(adapters.name, name)));
    if (exists) return;
    const uploaded = [];
    for (const [path, data] of Object.entries(files)) uploaded.push({ path, ...(await hub.blobs.put(once(data))) });
    try {
      await publishVersion(hub, session, { name, version: "v1", base, files: uploaded, ...extra });
      report.adapters.push(`${DEMO_OWNER}/${name}`);
    } catch (error) {
      report.skipped.push(`${DEMO_OWNER}/${name}: ${(error as Error).message.split("\n")[0]}`);
    }
  };
  const peftNames = ["adapter_config.json", "adapter_model.safetensors", "README.md"];
  await publishFiles(
    "gpt2-tigrinya-lora",
    "openai-community/gpt2",
    readFolder(join(fixtures, "peft-gpt2-tigrinya-lora"), peftNames),
    {
      tags: ["tigrinya", "text-generation"],
      description: "A real GPT-2 LoRA (r=8, c_attn and c_proj) trained on Tigrinya text.",
    },
  );
  await publishFiles(
    "dialogpt-small-tiny-lora",
    "microsoft/DialoGPT-small",
    readFolder(join(fixtures, "peft-dialogpt-small-tiny-lora"), peftNames),
    {
      tags: ["dialogue", "chat"],
    },
  );
  for (const [name] of baseFolders) {
    const [base] = await db.select().from(bases).where(eq(bases.name, name));
    if (!base) continue;
    const readme = `---\ntags: [demo, synthetic]\n---\n# ${name} demo adapter\n\nA seeded rank-2 LoRA on every linear module of ${name}, for trying the playground.\n`;
    await publishFiles(`${name}-demo`, name, peftFilesFor(parseManifest(base.manifest), { r: 2, seed: 7, readme }));
  }
  // The example recipes' adapters, when they were trained here (`examples/src/run.ts`).
  const out = join(root, "examples", "out");
  if (existsSync(out)) {
    for (const task of readdirSync(out)) {
      const baseDir = join(out, task, "base");
      if (!existsSync(join(baseDir, "config.json"))) continue;
      try {
        manifestFromConfig(JSON.parse(readFileSync(join(baseDir, "config.json"), "utf8")) as HfConfig);
      } catch (error) {
        report.skipped.push(
          `examples/out/${task}: its base config has no manifest (${(error as Error).message.split("\n")[0]})`,
        );
      }
    }
  }
  return report;
}
