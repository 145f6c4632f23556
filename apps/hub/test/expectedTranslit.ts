import { readFileSync } from "node:fs";
import { join } from "node:path";
import { findRepoRoot } from "@lowrank/db";
import { adapterLinear, CharSeq2Seq, initBackend, peftAdapterFromBytes } from "@lowrank/runtime";
import * as tf from "@tensorflow/tfjs-core";

/** The translation demo as committed: `examples/artifacts/translation/` (hub.json, base/, adapters/). */
export const TRANSLIT_DIR = join(findRepoRoot(), "examples", "artifacts", "translation");

export interface TranslitHubJson {
  base: { name: string; input: { examples: string[] } };
  adapters: { name: string; expected: { input: string; output: string }[] }[];
}

export function translitHubJson(): TranslitHubJson {
  return JSON.parse(readFileSync(join(TRANSLIT_DIR, "hub.json"), "utf8")) as TranslitHubJson;
}

/**
 * The word the playground must show, computed here in Node with the same runtime: greedy decoding of
 * `word` by the committed base, with the adapter's files as the hub serves them.
 */
export async function expectedTransliteration(
  word: string,
  adapter?: { config: Uint8Array; weights: Uint8Array },
): Promise<string> {
  await initBackend({ backend: "cpu" });
  const model = CharSeq2Seq.fromBytes(
    readFileSync(join(TRANSLIT_DIR, "base", "config.json")),
    readFileSync(join(TRANSLIT_DIR, "base", "model.safetensors")),
  );
  const lora = adapter ? peftAdapterFromBytes("expected", adapter.config, adapter.weights) : undefined;
  try {
    return model.transliterate(word, adapterLinear(model, lora, 1));
  } finally {
    model.dispose();
    if (lora) for (const m of lora.modules.values()) tf.dispose([m.a, m.b]);
  }
}
