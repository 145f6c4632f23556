import { readFileSync } from "node:fs";
import { join } from "node:path";
import { findRepoRoot } from "@lowrank/db";
import {
  type Gpt2,
  generate,
  hfModelFromBytes,
  initBackend,
  peftAdapterFromBytes,
  tokenizerFromJson,
} from "@lowrank/runtime";
import * as tf from "@tensorflow/tfjs-core";

/** Where a seeded demo task's files are (examples/artifacts/<task>/, what the hub seeds from). */
export function artifactsPath(...parts: string[]): string {
  return join(findRepoRoot(), "examples", "artifacts", ...parts);
}

/**
 * The greedy continuation the playground must show, computed here in Node with the runtime's
 * KV-cached `generate` (the playground re-runs the whole sequence each step): `tokens` new tokens of
 * `prompt` on a seeded text base, alone or with an adapter's files as the hub serves them.
 */
export async function expectedContinuation(
  task: string,
  prompt: string,
  tokens: number,
  adapter?: { config: Uint8Array; weights: Uint8Array },
): Promise<string> {
  await initBackend({ backend: "cpu" });
  const base = (file: string) => readFileSync(artifactsPath(task, "base", file));
  const model = hfModelFromBytes(base("config.json"), base("model.safetensors")) as Gpt2;
  const tokenizer = tokenizerFromJson(JSON.parse(base("tokenizer.json").toString("utf8")));
  const lora = adapter ? peftAdapterFromBytes("expected", adapter.config, adapter.weights) : undefined;
  try {
    const r = await generate(model, tokenizer, prompt, { maxNewTokens: tokens, eosTokenId: null, adapter: lora });
    return r.completion;
  } finally {
    model.dispose();
    if (lora) for (const m of lora.modules.values()) tf.dispose([m.a, m.b]);
  }
}
