import type * as tf from "@tensorflow/tfjs-core";

/** Adapter name meaning "no adapter" in a mixed batch (as in PEFT). */
export const BASE_ADAPTER = "__base__";

/** How a linear module stores its weight: `in_out` ([in, out], GPT-2's Conv1D) or `out_in` ([out, in], torch Linear). */
export type WeightLayout = "in_out" | "out_in";

export interface LinearModule {
  weight: tf.Tensor2D;
  bias?: tf.Tensor1D;
  layout: WeightLayout;
  inFeatures: number;
  outFeatures: number;
}

/** Computes one named linear module on `x` ([..., in] -> [..., out]); the engine supplies it to a base's forward. */
export type LinearFn = (module: string, x: tf.Tensor) => tf.Tensor;

/**
 * What the engine needs from a base model: its frozen linear modules by Hugging Face name and a forward
 * that routes every one of them through `linear`, so the engine can add LoRA terms or swap in merged weights.
 */
export interface ServableBase {
  /** Identity of the base (its manifest digest when there is one). */
  readonly id: string;
  /** `causal-lm` bases return logits [batch, seq, vocab] and can generate. */
  readonly kind: "causal-lm" | "encoder" | "other";
  readonly inputDtype: "int32" | "float32";
  /** For `int32` inputs: token ids are valid in [0, vocabSize). */
  readonly vocabSize?: number;
  readonly linearModules: ReadonlyMap<string, LinearModule>;
  /**
   * Set when examples are token sequences [seq] and the forward is causal (position t sees only tokens
   * ≤ t, positions counted from 0): the engine then right-pads shorter sequences with `padId` so requests
   * of different lengths share a batch, and each keeps exactly the outputs it would get alone.
   */
  readonly causalPadding?: { readonly padId: number };
  /** Why one example of this shape cannot run (expected vs found), or undefined when it can. */
  checkInput?(shape: readonly number[]): string | undefined;
  /** `input` is batch-first: [batch, ...example shape]. Must be synchronous tf ops (it runs inside a tidy). */
  forward(input: tf.Tensor, linear: LinearFn): tf.Tensor;
  dispose(): void;
}

/** Adapter weights as PEFT stores them: `a` = lora_A [r, in], `b` = lora_B [out, r], `scaling` = alpha / r. */
export interface AdapterModuleWeights {
  a: tf.Tensor2D;
  b: tf.Tensor2D;
  scaling: number;
}

/** What an adapter loader returns; the engine takes ownership of the tensors. */
export interface AdapterWeights {
  /** Content digest (sha256 of the canonical files) when known. */
  digest?: string;
  modules: Map<string, AdapterModuleWeights>;
}

/** Where an adapter comes from: a PEFT folder on disk, its bytes, or any custom loader input. */
export type AdapterSource =
  | { kind: "folder"; path: string }
  | { kind: "bytes"; config: Uint8Array | string | Record<string, unknown>; weights: Uint8Array }
  | { kind: "custom"; load: (base: ServableBase) => Promise<AdapterWeights> | AdapterWeights };

export type AdapterLoader = (
  source: AdapterSource,
  ctx: { name: string; base: ServableBase },
) => Promise<AdapterWeights>;

/** One module of a loaded adapter in the engine's layout: A [in, r], B [r, out]. */
export interface ResidentModule {
  A: tf.Tensor2D;
  B: tf.Tensor2D;
  rank: number;
  scaling: number;
}

export interface ForwardRequest {
  /** Base id; may be omitted when the engine holds one base. */
  base?: string;
  /** Adapter name or digest; `__base__` (default) for none. */
  adapter?: string;
  /** Multiplies the adapter's alpha/r (as llama.cpp's per-request LoRA scale). Default 1. */
  scale?: number;
  /** One example, flat (row-major). */
  input: ArrayLike<number>;
  /** The example's shape; default [input.length]. */
  shape?: number[];
  signal?: AbortSignal;
}

export interface ForwardResult {
  data: Float32Array;
  shape: number[];
  adapter: string;
  digest?: string;
  /** How many examples shared the batch this one ran in. */
  batchSize: number;
}
