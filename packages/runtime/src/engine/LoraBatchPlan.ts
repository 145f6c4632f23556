import { type AdapterListPath, bgmvAdapters, stackAdapters } from "@lowrank/core";
import * as tf from "@tensorflow/tfjs-core";
import type { ResidentModule } from "./types.js";

/** One example of a batch: the adapter it asked for (null for `__base__`) and its request scale. */
export interface RowAdapter {
  modules: ReadonlyMap<string, ResidentModule> | null;
  scale: number;
}

/**
 * Gathered LoRA kernel: rows `x` [n, in], stacked adapters As [k, in, r], Bs [k, r, out], per-row slot
 * `idx` (-1 = none) and per-row `scales`; returns [n, out] with row i = scales[i]·x_i·As[idx_i]·Bs[idx_i].
 * Same contract as @lowrank/core's `bgmv`.
 */
export type GatherLoraKernel = (
  x: tf.Tensor2D,
  As: tf.Tensor3D,
  Bs: tf.Tensor3D,
  idx: Int32Array,
  scales: Float32Array,
) => tf.Tensor2D;

/**
 * How a plan computes a heterogeneous batch's LoRA terms: a path of @lowrank/core's `bgmvAdapters`
 * (`auto`: the backend's registered kernel, else the fastest measured composition), `portable` (stacked
 * batched matmuls, any backend), or a custom stacked kernel.
 */
export type LoraBatchKernel = AdapterListPath | "portable" | GatherLoraKernel;

/**
 * The LoRA side of one heterogeneous batch: for each module, x·W is computed once by the caller for all
 * rows, and `delta` returns each row's own adapter term (zero for rows without one). Must be called
 * inside a tidy: every tensor it makes is an intermediate.
 */
export class LoraBatchPlan {
  constructor(
    private readonly rows: readonly RowAdapter[],
    private readonly kernel: LoraBatchKernel = "auto",
  ) {}

  /** Whether any row has an adapter (else the batch is plain base forward). */
  get active(): boolean {
    return this.rows.some((r) => r.modules !== null && r.scale !== 0);
  }

  /** LoRA term [n, out] for `module` on `x` [n, in] (n = batch × positions), or null when no row adapts it. */
  delta(module: string, x: tf.Tensor2D, outFeatures: number): tf.Tensor2D | null {
    const b = this.rows.length;
    const n = x.shape[0];
    const perRow = n / b;
    const mods = this.rows.map((r) => r.modules?.get(module) ?? null);
    const scales = this.rows.map((r, i) => (mods[i] ? r.scale * (mods[i] as ResidentModule).scaling : 0));
    if (!mods.some((m, i) => m && scales[i] !== 0)) return null;

    const uniq: ResidentModule[] = [];
    const slotOf = new Map<ResidentModule, number>();
    for (const m of mods)
      if (m && !slotOf.has(m)) {
        slotOf.set(m, uniq.length);
        uniq.push(m);
      }
    const idx = new Int32Array(n);
    for (let i = 0; i < b; i++)
      idx.fill(mods[i] ? (slotOf.get(mods[i] as ResidentModule) as number) : -1, i * perRow, (i + 1) * perRow);
    const rowScales = Float32Array.from(expand(scales, perRow));
    if (typeof this.kernel === "string" && this.kernel !== "portable")
      return bgmvAdapters(x, uniq, idx, rowScales, { path: this.kernel });

    if (typeof this.kernel === "function") {
      const { As, Bs } = stackAdapters(uniq);
      return this.kernel(x, As, Bs, idx, rowScales);
    }

    const rmax = Math.max(...mods.map((m) => m?.rank ?? 0));
    const inF = x.shape[1];
    const padded = new Map<ResidentModule, { A: tf.Tensor2D; B: tf.Tensor2D }>();
    for (const m of mods) {
      if (!m || padded.has(m)) continue;
      const pad = rmax - m.rank;
      padded.set(m, {
        A: pad
          ? tf.pad(m.A, [
              [0, 0],
              [0, pad],
            ])
          : m.A,
        B: pad
          ? tf.pad(m.B, [
              [0, pad],
              [0, 0],
            ])
          : m.B,
      });
    }

    // Portable path (every backend): stack each example's own A and B, then two batched matmuls.
    const needZero = mods.some((m) => !m);
    const zeroA = needZero ? tf.zeros<tf.Rank.R2>([inF, rmax]) : undefined;
    const zeroB = needZero ? tf.zeros<tf.Rank.R2>([rmax, outFeatures]) : undefined;
    const rowA = mods.map((m) => (m ? (padded.get(m) as { A: tf.Tensor2D }).A : (zeroA as tf.Tensor2D)));
    const rowB = mods.map((m) => (m ? (padded.get(m) as { B: tf.Tensor2D }).B : (zeroB as tf.Tensor2D)));
    const x3 = tf.reshape(x, [b, perRow, inF]);
    const u = tf.mul(tf.matMul(x3, tf.stack(rowA) as tf.Tensor3D), tf.tensor3d(scales, [b, 1, 1]));
    const y = tf.matMul(u, tf.stack(rowB) as tf.Tensor3D);
    return tf.reshape(y, [n, outFeatures]);
  }
}

function expand(values: number[], times: number): number[] {
  if (times === 1) return values;
  const out: number[] = [];
  for (const v of values) for (let i = 0; i < times; i++) out.push(v);
  return out;
}
