import * as tf from "@tensorflow/tfjs-core";
import type { LoraConfig } from "../config/LoraConfig.js";
import { CoreError } from "../errors.js";
import type { LoraModel } from "../inject/LoraModel.js";
import type { LoraLinear } from "../lora/LoraLinear.js";
import { truncatedSvd } from "../lora/truncatedSvd.js";
import { Rng } from "../random.js";
import { type MajoritySignMethod, mergeTaskTensors, quantile, type TaskMerge } from "./mergeUtils.js";

export type CombinationType =
  | "linear"
  | "cat"
  | "svd"
  | "ties"
  | "ties_svd"
  | "dare_linear"
  | "dare_linear_svd"
  | "dare_ties"
  | "dare_ties_svd"
  | "magnitude_prune"
  | "magnitude_prune_svd";

export interface WeightedAdapterOptions {
  /** Rank of an `*svd` result (default: the largest input rank). */
  svdRank?: number;
  /** Quantile (e.g. 0.99) at which to clamp the SVD factors, as PEFT's `svd_clamp`. */
  svdClamp?: number;
  /** Fraction of entries kept by ties / dare / magnitude_prune. */
  density?: number;
  majoritySignMethod?: MajoritySignMethod;
  /** Seeds DARE's random pruning. */
  seed?: number;
}

const EQUAL_RANK: CombinationType[] = ["linear", "ties", "dare_linear", "dare_ties", "magnitude_prune"];

function f64(t: tf.Tensor): Float64Array {
  return Float64Array.from(t.dataSync());
}

/** A new rank from input ranks, as PEFT decides it; throws `RankMismatch` where equal ranks are required. */
export function combinedRank(type: CombinationType, ranks: number[], svdRank?: number): number {
  if (EQUAL_RANK.includes(type)) {
    if (new Set(ranks).size !== 1)
      throw new CoreError(
        "RankMismatch",
        `combination "${type}": expected adapters of equal rank, found ranks [${ranks.join(", ")}] (use "cat" or "svd")`,
      );
    return ranks[0] as number;
  }
  if (type === "cat") return ranks.reduce((a, b) => a + b, 0);
  if (type.endsWith("svd")) return svdRank ?? Math.max(...ranks);
  throw new CoreError(
    "InvalidArgument",
    `combination_type: expected one of linear, cat, svd, ties, ties_svd, dare_linear, dare_linear_svd, dare_ties, dare_ties_svd, magnitude_prune, magnitude_prune_svd; found "${type}"`,
  );
}

/**
 * PEFT's `add_weighted_adapter` on one layer: builds adapter `name` (scaling 1, i.e. alpha = r) from
 * `adapters` and `weights`. Layout as everywhere here: A [in, r], B [r, out].
 * - `linear`: A = Σ sign(wᵢsᵢ)·√|wᵢsᵢ|·Aᵢ, B = Σ √|wᵢsᵢ|·Bᵢ (equal ranks; cross terms included, as PEFT).
 * - `cat`: A = [w₁s₁A₁ | w₂s₂A₂ ...], B = [B₁; B₂ ...]: exactly Σ wᵢ·ΔWᵢ, rank Σ rᵢ.
 * - `svd` (and `*_svd`): ΔW = Σ wᵢ·ΔWᵢ (or ties/dare of the ΔWᵢ), truncated by SVD to the target rank.
 * - `ties`, `dare_linear`, `dare_ties`, `magnitude_prune`: the merge applied to the A's and to the B's separately with weights √(wᵢsᵢ).
 */
export function addWeightedAdapterToLayer(
  layer: LoraLinear,
  adapters: string[],
  weights: number[],
  name: string,
  type: CombinationType,
  opts: WeightedAdapterOptions = {},
): void {
  if (adapters.length !== weights.length)
    throw new CoreError(
      "InvalidArgument",
      `add_weighted_adapter: expected one weight per adapter (${adapters.length}), found ${weights.length}`,
    );
  const present = adapters
    .map((a, i) => ({ a: layer.hasAdapter(a) ? layer.getAdapter(a) : undefined, w: weights[i] as number }))
    .filter((p) => p.a !== undefined) as Array<{ a: ReturnType<LoraLinear["getAdapter"]>; w: number }>;
  if (present.length === 0) return;
  const kind: CombinationType = adapters.length === 1 ? "linear" : type;
  const r = combinedRank(
    kind,
    present.map((p) => p.a.r),
    opts.svdRank,
  );
  const n = layer.inFeatures;
  const m = layer.outFeatures;
  const rng = new Rng(opts.seed ?? 0);
  let A: Float64Array;
  let B: Float64Array;
  let rank = r;
  if (kind === "cat") {
    rank = present.reduce((s, p) => s + p.a.r, 0);
    A = new Float64Array(n * rank);
    B = new Float64Array(rank * m);
    let off = 0;
    for (const { a, w } of present) {
      const av = a.A.dataSync();
      const bv = a.B.dataSync();
      for (let i = 0; i < n; i++)
        for (let c = 0; c < a.r; c++) A[i * rank + off + c] = w * a.scaling * (av[i * a.r + c] as number);
      B.set(bv, off * m);
      off += a.r;
    }
  } else if (kind.endsWith("svd")) {
    const deltas = present.map((p) => {
      const d = tf.matMul(p.a.A, p.a.B);
      const out = f64(d);
      d.dispose();
      return out;
    });
    const ws = present.map((p) => p.w * p.a.scaling);
    const base = kind === "svd" ? "linear" : (kind.slice(0, -4) as TaskMerge);
    const delta = mergeTaskTensors(base, deltas, ws, {
      density: opts.density,
      majoritySignMethod: opts.majoritySignMethod,
      rng,
    });
    const { U, S, V } = truncatedSvd(delta, n, m, r);
    A = Float64Array.from(U);
    B = new Float64Array(r * m);
    for (let c = 0; c < r; c++) for (let j = 0; j < m; j++) B[c * m + j] = (S[c] as number) * (V[j * r + c] as number);
    if (opts.svdClamp !== undefined) {
      // PEFT clamps U·S (our Bᵀ) and Vh (our Aᵀ) at the quantile of their joined entries.
      const all = new Float64Array(A.length + B.length);
      all.set(B);
      all.set(A, B.length);
      const hi = quantile(all, opts.svdClamp);
      const clamp = (x: Float64Array) =>
        x.forEach((v, i) => {
          x[i] = Math.min(hi, Math.max(-hi, v));
        });
      clamp(A);
      clamp(B);
    }
  } else {
    const signed = present.map((p) => Math.sign(p.w * p.a.scaling || 1) * Math.sqrt(Math.abs(p.w * p.a.scaling)));
    const unsigned = present.map((p) => Math.sqrt(Math.abs(p.w * p.a.scaling)));
    const mopts = { density: opts.density, majoritySignMethod: opts.majoritySignMethod, rng };
    A = mergeTaskTensors(
      kind as TaskMerge,
      present.map((p) => f64(p.a.A)),
      signed,
      mopts,
    );
    B = mergeTaskTensors(
      kind as TaskMerge,
      present.map((p) => f64(p.a.B)),
      unsigned,
      mopts,
    );
  }
  const At = tf.tensor2d(Float32Array.from(A), [n, rank]);
  const Bt = tf.tensor2d(Float32Array.from(B), [rank, m]);
  try {
    layer.addAdapter(name, { A: At, B: Bt, alpha: rank, scaling: 1 });
  } finally {
    At.dispose();
    Bt.dispose();
  }
}

/** PEFT's `LoraModel.add_weighted_adapter` over every layer of `model`; the new adapter is not activated. */
export function addWeightedAdapter(
  model: LoraModel,
  adapters: string[],
  weights: number[],
  adapterName: string,
  combinationType: CombinationType = "svd",
  opts: WeightedAdapterOptions = {},
): void {
  if (adapters.length === 0)
    throw new CoreError("InvalidArgument", "add_weighted_adapter: expected at least one adapter, found none");
  const configs = adapters.map((a) => {
    const c = model.configs.get(a);
    if (!c) throw new CoreError("UnknownAdapter", `expected one of [${model.adapterNames.join(", ")}], found "${a}"`);
    return c;
  });
  if (model.configs.has(adapterName))
    throw new CoreError("DuplicateAdapter", `adapter "${adapterName}" already exists`);
  const kind: CombinationType = adapters.length === 1 ? "linear" : combinationType;
  const r = combinedRank(
    kind,
    configs.map((c) => c.r),
    opts.svdRank,
  );
  const targets = configs.map((c) => c.target_modules);
  const first = configs[0] as LoraConfig;
  const target_modules = targets.every((t) => Array.isArray(t))
    ? [...new Set(targets.flat() as string[])]
    : targets.length === 1
      ? first.target_modules
      : targets.map((t) => `(${Array.isArray(t) ? t.map((s) => `(?:.*\\.)?${s}`).join("|") : t})`).join("|");
  const done: LoraLinear[] = [];
  try {
    for (const layer of model.layers.values()) {
      if (!adapters.some((a) => layer.hasAdapter(a))) continue;
      addWeightedAdapterToLayer(layer, adapters, weights, adapterName, kind, opts);
      done.push(layer);
    }
  } catch (e) {
    for (const l of done) l.deleteAdapter(adapterName);
    throw e;
  }
  model.registerAdapter(adapterName, {
    ...first,
    r,
    lora_alpha: r,
    target_modules,
    rank_pattern: {},
    alpha_pattern: {},
  });
}
