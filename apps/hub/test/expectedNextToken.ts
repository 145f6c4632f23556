import { readFileSync } from "node:fs";
import { join } from "node:path";
import { findRepoRoot } from "@lowrank/db";
import {
  adapterLinear,
  hfModelFromBytes,
  initBackend,
  peftAdapterFromBytes,
  tokenizerFromJson,
} from "@lowrank/runtime";
import * as tf from "@tensorflow/tfjs-core";

/**
 * The answer the playground must show, computed here in Node with the same runtime: the next-token
 * logits of `prompt` on the tiny GPT-2 fixture, with the adapter's files as the hub serves them.
 */
export async function nextTokenLogits(
  prompt: string,
  adapter?: { config: Uint8Array; weights: Uint8Array },
): Promise<Float32Array> {
  await initBackend({ backend: "cpu" });
  const dir = join(findRepoRoot(), "fixtures", "hf-gpt2-lmhead-tiny");
  const model = hfModelFromBytes(readFileSync(join(dir, "config.json")), readFileSync(join(dir, "model.safetensors")));
  const tokenizer = tokenizerFromJson(
    JSON.parse(readFileSync(join(dir, "tokenizer.json"), "utf8")),
    JSON.parse(readFileSync(join(dir, "tokenizer_config.json"), "utf8")),
  );
  const lora = adapter ? peftAdapterFromBytes("expected", adapter.config, adapter.weights) : undefined;
  try {
    const ids = tokenizer.encode(prompt).slice(-32);
    const linear = adapterLinear(model, lora, 1);
    const out = tf.tidy(() => model.forward(tf.tensor2d([ids], [1, ids.length], "int32"), linear));
    const width = out.shape[out.shape.length - 1] as number;
    const data = (await out.data()) as Float32Array;
    out.dispose();
    return data.slice(data.length - width);
  } finally {
    model.dispose();
    if (lora) for (const m of lora.modules.values()) tf.dispose([m.a, m.b]);
  }
}

/**
 * Whether `id` is the most likely next token under `logits`, up to float rounding: this base's hidden
 * size is 2, so among 50,257 tokens two can sit within rounding of the top, and another backend may
 * order them the other way.
 */
export function isTopToken(logits: Float32Array, id: number): boolean {
  let max = Number.NEGATIVE_INFINITY;
  for (const v of logits) max = Math.max(max, v);
  return max - (logits[id] as number) <= 1e-4 * Math.max(1, Math.abs(max));
}
