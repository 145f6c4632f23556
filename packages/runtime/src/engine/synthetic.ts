import * as tf from "@tensorflow/tfjs-core";
import { RuntimeError } from "../errors.js";
import type { AdapterWeights, LinearFn, LinearModule, ServableBase } from "./types.js";

/** Deterministic uniform values in [-amp, amp) (mulberry32), for synthetic weights. */
export function seededValues(seed: number, count: number, amp = 1): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1) * amp;
  }
  return out;
}

export interface SyntheticMlpOptions {
  id?: string;
  /** Widths: dims[0] in, dims[i+1] out of layer i. */
  dims: number[];
  seed?: number;
  /** Store odd layers as [out, in] (torch Linear) and even ones as [in, out] (GPT-2 Conv1D), to exercise both. */
  mixedLayouts?: boolean;
}

/** Module name of layer i in the synthetic models: GPT-2 style names. */
export function syntheticModuleName(i: number): string {
  return `transformer.h.${i >> 1}.mlp.${i % 2 === 0 ? "c_fc" : "c_proj"}`;
}

function makeLinear(inF: number, outF: number, seed: number, layout: LinearModule["layout"]): LinearModule {
  const amp = 1 / Math.sqrt(inF);
  const w = seededValues(seed, inF * outF, amp);
  return {
    weight: tf.tensor2d(w, layout === "in_out" ? [inF, outF] : [outF, inF]),
    bias: tf.tensor1d(seededValues(seed + 7919, outF, 0.1)),
    layout,
    inFeatures: inF,
    outFeatures: outF,
  };
}

class SyntheticBase implements ServableBase {
  constructor(
    readonly id: string,
    readonly kind: ServableBase["kind"],
    readonly inputDtype: ServableBase["inputDtype"],
    readonly linearModules: ReadonlyMap<string, LinearModule>,
    private readonly run: (input: tf.Tensor, linear: LinearFn) => tf.Tensor,
    private readonly extra: tf.Tensor[] = [],
    private readonly check?: (shape: readonly number[]) => string | undefined,
    readonly causalPadding?: { readonly padId: number },
    readonly vocabSize?: number,
  ) {}

  checkInput(shape: readonly number[]): string | undefined {
    return this.check?.(shape);
  }

  forward(input: tf.Tensor, linear: LinearFn): tf.Tensor {
    return this.run(input, linear);
  }

  dispose(): void {
    for (const m of this.linearModules.values()) tf.dispose([m.weight, ...(m.bias ? [m.bias] : [])]);
    tf.dispose(this.extra);
  }
}

/** A stack of linears with tanh between them: input [batch, ..., dims[0]] float32. */
export function createSyntheticMlp(options: SyntheticMlpOptions): ServableBase {
  const { dims, seed = 1, mixedLayouts = true } = options;
  const modules = new Map<string, LinearModule>();
  const names: string[] = [];
  for (let i = 0; i + 1 < dims.length; i++) {
    const name = syntheticModuleName(i);
    names.push(name);
    modules.set(
      name,
      makeLinear(
        dims[i] as number,
        dims[i + 1] as number,
        seed * 1000 + i,
        mixedLayouts && i % 2 ? "out_in" : "in_out",
      ),
    );
  }
  return new SyntheticBase(
    options.id ?? `synthetic-mlp-${dims.join("x")}-s${seed}`,
    "other",
    "float32",
    modules,
    (input, linear) => {
      let h = input;
      names.forEach((name, i) => {
        h = linear(name, h);
        if (i + 1 < names.length) h = tf.tanh(h);
      });
      return h;
    },
    [],
    (shape) =>
      shape[shape.length - 1] === dims[0]
        ? undefined
        : `input: expected last dimension ${dims[0]}, found shape [${shape}]`,
  );
}

export interface SyntheticLmOptions {
  id?: string;
  vocab: number;
  dim: number;
  layers: number;
  seed?: number;
}

/**
 * A tiny causal LM: token embedding, a running mean over positions (so position t sees only tokens ≤ t),
 * `layers` tanh linears and an `lm_head`; input int32 [batch, seq], output logits [batch, seq, vocab].
 */
export function createSyntheticCausalLm(options: SyntheticLmOptions): ServableBase {
  const { vocab, dim, layers, seed = 1 } = options;
  const modules = new Map<string, LinearModule>();
  const names: string[] = [];
  for (let i = 0; i < layers; i++) {
    names.push(syntheticModuleName(i));
    modules.set(syntheticModuleName(i), makeLinear(dim, dim, seed * 1000 + i, i % 2 ? "out_in" : "in_out"));
  }
  modules.set("lm_head", makeLinear(dim, vocab, seed * 1000 + 999, "out_in"));
  const wte = tf.tensor2d(seededValues(seed * 31 + 5, vocab * dim, 1), [vocab, dim]);
  return new SyntheticBase(
    options.id ?? `synthetic-lm-v${vocab}-d${dim}-s${seed}`,
    "causal-lm",
    "int32",
    modules,
    (ids, linear) => {
      const [b, t] = ids.shape as [number, number];
      const emb = tf.reshape(tf.gather(wte, tf.reshape(ids, [-1])), [b, t, dim]);
      const positions = tf.reshape(tf.range(1, t + 1, 1, "float32"), [1, t, 1]);
      let h: tf.Tensor = tf.div(tf.cumsum(emb, 1), positions);
      for (const name of names) h = tf.tanh(linear(name, h));
      return linear("lm_head", h);
    },
    [wte],
    (shape) => (shape.length === 1 ? undefined : `input_ids: expected one sequence [seq], found shape [${shape}]`),
    { padId: 0 },
    vocab,
  );
}

export interface SyntheticAdapterSpec {
  rank: number;
  seed: number;
  alpha?: number;
  /** Modules to adapt (default: every linear of the base). */
  modules?: string[];
  digest?: string;
}

/** Plain arrays of a synthetic adapter in PEFT layout (a [r, in], b [out, r]), for references in tests. */
export function syntheticAdapterArrays(base: ServableBase, spec: SyntheticAdapterSpec) {
  const out = new Map<
    string,
    { a: Float32Array; b: Float32Array; rank: number; inF: number; outF: number; scaling: number }
  >();
  const names = spec.modules ?? [...base.linearModules.keys()];
  names.forEach((name, i) => {
    const m = base.linearModules.get(name);
    if (!m)
      throw new RuntimeError("AdapterMismatch", `synthetic adapter: expected a module of the base, found '${name}'`);
    const r = spec.rank;
    out.set(name, {
      a: seededValues(spec.seed * 7919 + i * 2, r * m.inFeatures, 1 / Math.sqrt(m.inFeatures)),
      b: seededValues(spec.seed * 7919 + i * 2 + 1, m.outFeatures * r, 0.5),
      rank: r,
      inF: m.inFeatures,
      outF: m.outFeatures,
      scaling: (spec.alpha ?? 2 * r) / r,
    });
  });
  return out;
}

/** A synthetic adapter as the engine's loaders return it. */
export function syntheticAdapter(base: ServableBase, spec: SyntheticAdapterSpec): AdapterWeights {
  const modules = new Map<string, { a: tf.Tensor2D; b: tf.Tensor2D; scaling: number }>();
  for (const [name, m] of syntheticAdapterArrays(base, spec)) {
    modules.set(name, {
      a: tf.tensor2d(m.a, [m.rank, m.inF]),
      b: tf.tensor2d(m.b, [m.outF, m.rank]),
      scaling: m.scaling,
    });
  }
  return { digest: spec.digest, modules };
}
