import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { bases, eq, findRepoRoot, user } from "@lowrank/db";
import { parseManifest } from "@lowrank/formats";
import type { Session } from "../trpc.js";
import { registerBase } from "./bases.js";
import { peftFilesFor } from "./demo.js";
import type { HubServices } from "./HubServices.js";
import { demoPublisher, once, readFolder, type SeedReport, seedArtifacts } from "./seedArtifacts.js";

export type { SeedReport } from "./seedArtifacts.js";

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

/**
 * Makes a fresh hub not empty, idempotently: the GPT-2 and BERT fixtures as bases (with weights, so
 * the playground can run them), GPT-2 and DialoGPT-small by config, the real PEFT adapters among the
 * fixtures, a demo adapter per tiny base, and every base and adapter of `examples/artifacts/<task>/hub.json`
 * (trained by `examples/src/export.ts` and committed). Everything is owned by the `lowrank` account.
 * Already-present items are left alone.
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

  const publishFiles = demoPublisher(hub, session, report);
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
  await seedArtifacts(hub, join(root, "examples", "artifacts"), report, publishFiles);
  return report;
}
