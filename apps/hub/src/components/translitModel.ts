import type { AdapterWeights, BackendInfo, CharSeq2Seq, LinearFn } from "@lowrank/runtime";
import { baseFileUrl, composeOnto, fetchBytes, runtime } from "./playgroundModel.js";

/** A transliteration base loaded in the browser, once. */
export interface LoadedTranslit {
  model: CharSeq2Seq;
  backend: BackendInfo;
  loadMs: number;
}

export interface TranslitOutput {
  text: string;
  ms: number;
}

/** Initialize the backend and load a `CharSeq2Seq` base from the hub's stored files. */
export async function loadTranslitBase(base: string, backend: "auto" | "webgpu" | "wasm"): Promise<LoadedTranslit> {
  const started = performance.now();
  const { rt } = await runtime();
  const info = await rt.initBackend({ backend, wasmPaths: `${location.origin}/tfjs-wasm/` });
  const [config, weights] = await Promise.all([
    fetchBytes(baseFileUrl(base, "config.json")),
    fetchBytes(baseFileUrl(base, "model.safetensors")),
  ]);
  const model = rt.CharSeq2Seq.fromBytes(config, weights);
  const loaded = { model, backend: info, loadMs: 0 };
  // Compile the kernels once, so the first swap is not charged for it.
  await transliterate(loaded, model.linear, model.hparams.vocab[3] ?? "a");
  loaded.loadMs = performance.now() - started;
  return loaded;
}

/** The base's own linear modules with adapters added at their scales (the swap: no base reload). */
export async function withAdapters(
  base: LoadedTranslit,
  parts: { adapter: AdapterWeights; scale: number }[],
): Promise<LinearFn> {
  return composeOnto(base.model, parts);
}

/** Greedy transliteration of one word; each step's logits are read asynchronously (WebGPU-safe). */
export async function transliterate(base: LoadedTranslit, linear: LinearFn, word: string): Promise<TranslitOutput> {
  const { tf } = await runtime();
  const started = performance.now();
  const text = await base.model.transliterateWith(word, async (row) => {
    const out = tf.tidy(() => base.model.forward(tf.tensor2d(row, [1, row.length], "int32"), linear));
    const data = (await out.data()) as Float32Array;
    out.dispose();
    return data;
  });
  return { text, ms: performance.now() - started };
}
