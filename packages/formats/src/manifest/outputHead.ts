import type { BaseManifest } from "./BaseManifest.js";

const HEAD_NAME = /(?:^|\.)lm_head$/;

/**
 * Whether module `name` of `manifest` is the model's output head, the layer PEFT's `"all-linear"`
 * leaves out (`get_output_embeddings()`): a head tied to an embedding (GPT-2's `lm_head`, BERT's
 * `cls.predictions.decoder`) or a module named `lm_head` (Llama's untied head, the seq2seq demo's
 * kernel). The one output-head rule for manifests; a loaded model reports its own heads.
 */
export function isOutputHeadModule(manifest: Pick<BaseManifest, "modules">, name: string): boolean {
  const m = manifest.modules[name];
  return m !== undefined && (m.tiedTo !== undefined || HEAD_NAME.test(name));
}

/** The output-head modules of a manifest under {@link isOutputHeadModule}, sorted by name. */
export function outputHeadModules(manifest: Pick<BaseManifest, "modules">): string[] {
  return Object.keys(manifest.modules)
    .filter((n) => isOutputHeadModule(manifest, n))
    .sort();
}
