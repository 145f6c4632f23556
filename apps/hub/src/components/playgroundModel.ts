import type { AdapterWeights, BackendInfo, BaseModel, LinearFn, LinearModel, TextTokenizer } from "@lowrank/runtime";
import type { InputSpec } from "./inputSpec.js";

/** What the playground holds once a base is loaded: the model (frozen, loaded once), its tokenizer, the backend. */
export interface LoadedBase {
  model: BaseModel;
  tokenizer: TextTokenizer | null;
  /** How the page turns what the visitor gives into the model's input. */
  input: InputSpec;
  backend: BackendInfo;
  loadMs: number;
}

/** Token ids (language models, encoders) or one row of features (Dense classifiers). */
export type ModelInput = { ids: number[] } | { features: Float32Array };

export interface ModelOutput {
  /** Top next tokens (language models), the first values of the output (encoders), or class probabilities. */
  kind: "next-token" | "values" | "classes";
  top: { id: number; text: string; p: number; logit: number }[];
  /** Token ids that went in (after truncation). */
  ids: number[];
  /** The features that went in (classifiers). */
  features?: Float32Array;
  values: number[];
  /** Classifiers: every class with its probability and score, in class order. */
  classes?: { label: string; p: number; logit: number }[];
  /** Greedy continuation (language models). */
  continuation: string;
  ms: number;
}

type Runtime = typeof import("@lowrank/runtime");
type Tf = typeof import("@tensorflow/tfjs-core");

let libs: Promise<{ rt: Runtime; tf: Tf }> | undefined;
/** The runtime and tfjs, fetched on first use only (the page paints before them). */
export function runtime(): Promise<{ rt: Runtime; tf: Tf }> {
  libs ??= Promise.all([import("@lowrank/runtime"), import("@tensorflow/tfjs-core")]).then(([rt, tf]) => ({ rt, tf }));
  return libs;
}

export async function fetchBytes(url: string): Promise<Uint8Array> {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`GET ${url}: ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

async function fetchJson(url: string): Promise<Record<string, unknown> | null> {
  const r = await fetch(url);
  return r.ok ? ((await r.json()) as Record<string, unknown>) : null;
}

/** The URL of one of a base's stored files. */
export function baseFileUrl(base: string, path: string): string {
  return `/api/base-files?base=${encodeURIComponent(base)}&path=${encodeURIComponent(path)}`;
}

/** Initialize the backend and load the base from the hub's stored files, once. */
export async function loadBase(
  base: string,
  files: string[],
  backend: "auto" | "webgpu" | "wasm",
  input: InputSpec,
): Promise<LoadedBase> {
  const started = performance.now();
  const { rt } = await runtime();
  const info = await rt.initBackend({ backend, wasmPaths: `${location.origin}/tfjs-wasm/` });
  const url = (path: string) => baseFileUrl(base, path);
  const [config, weights, tok, tokCfg] = await Promise.all([
    fetchBytes(url("config.json")),
    fetchBytes(url("model.safetensors")),
    files.includes("tokenizer.json") ? fetchJson(url("tokenizer.json")) : Promise.resolve(null),
    files.includes("tokenizer_config.json") ? fetchJson(url("tokenizer_config.json")) : Promise.resolve(null),
  ]);
  const model = rt.baseModelFromBytes(config, weights);
  let tokenizer: TextTokenizer | null = null;
  try {
    tokenizer = tok ? rt.tokenizerFromJson(tok, tokCfg ?? {}) : null;
  } catch {
    tokenizer = null;
  }
  const loaded = { model, tokenizer, input, backend: info, loadMs: 0 };
  // Compile kernels once, so the first swap is not charged for it.
  await run(
    loaded,
    model.linear,
    model instanceof rt.DenseClassifier ? { features: new Float32Array(model.inFeatures) } : { ids: [0, 1, 2] },
    0,
  );
  loaded.loadMs = performance.now() - started;
  return loaded;
}

/** Download an adapter's PEFT files from the hub and put its factors on the backend. */
export async function loadAdapter(repo: string): Promise<AdapterWeights> {
  const { rt } = await runtime();
  const base = `/${repo}/resolve/main`;
  const [config, weights] = await Promise.all([
    fetchBytes(`${base}/adapter_config.json`),
    fetchBytes(`${base}/adapter_model.safetensors`),
  ]);
  return rt.peftAdapterFromBytes(repo, config, weights);
}

/** A LinearFn with up to two adapters added at their scales (the base's own when none). */
export async function composeLinear(
  base: LoadedBase,
  parts: { adapter: AdapterWeights; scale: number }[],
): Promise<LinearFn> {
  return composeOnto(base.model, parts);
}

/** Adapters added one after another onto any model's linear modules (no base reload, no merge). */
export async function composeOnto(
  model: LinearModel,
  parts: { adapter: AdapterWeights; scale: number }[],
): Promise<LinearFn> {
  const { rt } = await runtime();
  let linear = model.linear;
  for (const { adapter, scale } of parts) {
    const inner = linear;
    linear = rt.adapterLinear(
      { linearModules: model.linearModules, architecture: model.architecture, linear: inner },
      adapter,
      scale,
    );
  }
  return linear;
}

/** Token ids of the prompt: the tokenizer's, or comma-separated ids when the base has none. */
export function encode(base: LoadedBase, text: string): number[] {
  if (base.tokenizer) return base.tokenizer.encode(text).slice(-32);
  const ids = text
    .split(/[\s,]+/)
    .filter(Boolean)
    .map(Number)
    .filter((n) => Number.isInteger(n) && n >= 0);
  return ids.length ? ids.slice(-32) : [0];
}

/**
 * Greedy continuation length: 48 tokens for byte- or character-level vocabularies (at most 512 tokens,
 * where a token is about a character, so about 48 characters of text), 6 for subword ones (each a
 * forward pass over the whole sequence, slow on software WebGPU).
 */
export function continuationTokens(vocabSize: number): number {
  return vocabSize > 0 && vocabSize <= 512 ? 48 : 6;
}

/** One forward pass of a Dense classifier over one row: class scores and their softmax. */
async function classify(base: LoadedBase, linear: LinearFn, features: Float32Array): Promise<ModelOutput> {
  const { rt, tf } = await runtime();
  const model = base.model as InstanceType<typeof rt.DenseClassifier>;
  const started = performance.now();
  const out = tf.tidy(() => model.forward(tf.tensor2d(features, [1, features.length]), linear));
  const logits = Array.from((await out.data()) as Float32Array);
  out.dispose();
  const max = Math.max(...logits);
  const exps = logits.map((v) => Math.exp(v - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  const labels = base.input.classes ?? [];
  const classes = logits.map((logit, i) => ({ label: labels[i] ?? String(i), p: (exps[i] as number) / sum, logit }));
  return {
    kind: "classes",
    top: [],
    ids: [],
    features,
    values: logits,
    classes,
    continuation: "",
    ms: performance.now() - started,
  };
}

/** One forward pass (plus a greedy continuation for language models, as the runtime's `generate` computes it). */
export async function run(
  base: LoadedBase,
  linear: LinearFn,
  input: ModelInput,
  continueTokens?: number,
): Promise<ModelOutput> {
  const { rt, tf } = await runtime();
  if ("features" in input) return classify(base, linear, input.features);
  const { ids } = input;
  const model = base.model;
  if (model instanceof rt.DenseClassifier) throw new Error("this base takes features, not token ids");
  const started = performance.now();
  const vocab = "vocabSize" in model.hparams ? (model.hparams.vocabSize as number) : 0;
  const safe = ids.map((id) => (vocab ? Math.min(id, vocab - 1) : id));
  const forward = (seq: number[]) =>
    tf.tidy(() => {
      const input = tf.tensor2d([seq], [1, seq.length], "int32");
      if (model instanceof rt.Bert) {
        const r = model.encode({ inputIds: input }, linear);
        return r.logits ?? r.hidden;
      }
      return model.forward(input, linear);
    });
  const out = forward(safe);
  const width = out.shape[out.shape.length - 1] as number;
  const data = (await out.data()) as Float32Array;
  out.dispose();
  const last = data.subarray(data.length - width);
  const isLm = model instanceof rt.Gpt2 && model.hasLmHead;
  if (!isLm)
    return {
      kind: "values",
      top: [],
      ids: safe,
      values: Array.from(last.subarray(0, 6)),
      continuation: "",
      ms: performance.now() - started,
    };
  const max = last.reduce((m, v) => Math.max(m, v), Number.NEGATIVE_INFINITY);
  let sum = 0;
  for (const v of last) sum += Math.exp(v - max);
  const order = Array.from(last.keys())
    .sort((a, b) => (last[b] as number) - (last[a] as number))
    .slice(0, 5);
  const text = (id: number) => base.tokenizer?.decode([id]) ?? String(id);
  const top = order.map((id) => ({
    id,
    text: text(id),
    p: Math.exp((last[id] as number) - max) / sum,
    logit: last[id] as number,
  }));
  const seq = [...safe, order[0] as number];
  // The whole sequence each step (never a sliding window), so the tokens are the runtime's greedy ones.
  for (let i = 1; i < (continueTokens ?? continuationTokens(vocab)) && seq.length < model.hparams.nPositions; i++) {
    const o = forward(seq);
    const w = o.shape[o.shape.length - 1] as number;
    const d = (await o.data()) as Float32Array;
    o.dispose();
    seq.push(rt.argmax(d.subarray(d.length - w)));
  }
  const continuation = base.tokenizer
    ? base.tokenizer.decode(seq.slice(safe.length))
    : seq.slice(safe.length).join(" ");
  return { kind: "next-token", top, ids: safe, values: [], continuation, ms: performance.now() - started };
}
