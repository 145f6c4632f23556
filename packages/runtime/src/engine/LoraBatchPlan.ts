import { bgmv, LORA_BGMV, loraKernelPath } from "@lowrank/core";
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
 * @lowrank/core's `bgmv` as a GatherLoraKernel. When the active backend has no registered bgmv kernel
 * (wasm), a plan given this kernel skips the per-batch stacking and runs each adapter's own A and B on
 * its own rows instead (gather, two small matmuls, scatter).
 */
export const coreBgmvKernel: GatherLoraKernel = (x, As, Bs, idx, scales) => bgmv(x, As, Bs, idx, scales);

/**
 * The LoRA side of one heterogeneous batch: for each module, x·W is computed once by the caller for all
 * rows, and `delta` returns each row's own adapter term (zero for rows without one). Must be called
 * inside a tidy: every tensor it makes is an intermediate.
 */
export class LoraBatchPlan {
  constructor(
    private readonly rows: readonly RowAdapter[],
    private readonly kernel?: GatherLoraKernel,
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

    const first = mods[0];
    if (first && mods.every((m) => m === first)) {
      // One adapter for the whole batch: two plain matmuls.
      let u = tf.matMul(x, first.A);
      const s0 = scales[0] as number;
      if (scales.every((s) => s === s0)) u = tf.mul(u, s0);
      else u = tf.mul(u, tf.tensor2d(expand(scales, perRow), [n, 1]));
      return tf.matMul(u, first.B);
    }

    if (this.kernel === coreBgmvKernel && loraKernelPath(LORA_BGMV) === "composed") {
      return this.segmented(x, mods, scales, perRow);
    }

    const rmax = Math.max(...mods.map((m) => m?.rank ?? 0));
    const inF = x.shape[1];
    const padded = new Map<ResidentModule, { A: tf.Tensor2D; B: tf.Tensor2D; slot: number }>();
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
        slot: padded.size,
      });
    }

    if (this.kernel) {
      const uniq = [...padded.values()];
      const idx = new Int32Array(n);
      for (let i = 0; i < b; i++)
        idx.fill(mods[i] ? (padded.get(mods[i] as ResidentModule)?.slot ?? -1) : -1, i * perRow, (i + 1) * perRow);
      const As = tf.stack(uniq.map((u) => u.A)) as tf.Tensor3D;
      const Bs = tf.stack(uniq.map((u) => u.B)) as tf.Tensor3D;
      return this.kernel(x, As, Bs, idx, Float32Array.from(expand(scales, perRow)));
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

  /**
   * Per adapter: its rows are gathered from x (gatherND, an exact copy), multiplied by the adapter's own
   * A, scaled, multiplied by its B, and the parts are scattered back to their rows. No adapter weights
   * are copied, every matmul's right operand is a resident tensor (wasm keeps its packed form), and the
   * flops are one adapter's worth per row, so the cost grows with the number of adapters only by the
   * few small ops each one adds.
   */
  private segmented(x: tf.Tensor2D, mods: Array<ResidentModule | null>, scales: number[], perRow: number): tf.Tensor2D {
    const n = x.shape[0];
    const members: ResidentModule[] = [];
    const rowsOf = new Map<ResidentModule, number[]>();
    mods.forEach((m, i) => {
      if (!m || scales[i] === 0) return;
      let rows = rowsOf.get(m);
      if (!rows) {
        rows = [];
        rowsOf.set(m, rows);
        members.push(m);
      }
      for (let row = i * perRow; row < (i + 1) * perRow; row++) rows.push(row);
    });
    const rowScale = Float32Array.from(expand(scales, perRow));
    const only = members.length === 1 ? (members[0] as ResidentModule) : undefined;
    if (only) {
      // One adapter, some rows without it or with other scales: all rows, each times its scale (0 = none).
      return tf.matMul(tf.mul(tf.matMul(x, only.A), tf.tensor2d(rowScale, [n, 1])), only.B);
    }
    const order: number[] = [];
    const parts = members.map((m) => {
      const rows = rowsOf.get(m) as number[];
      order.push(...rows);
      const xs = tf.gatherND(x, tf.tensor2d(rows, [rows.length, 1], "int32")) as tf.Tensor2D;
      return tf.matMul(tf.matMul(xs, m.A), m.B);
    });
    const outF = (members[0] as ResidentModule).B.shape[1];
    const y = tf.scatterND(tf.tensor2d(order, [order.length, 1], "int32"), tf.concat(parts, 0), [n, outF]);
    // Per-row scales commute with B: one multiply over the whole result instead of one per adapter.
    const s0 = rowScale[order[0] as number] as number;
    const uniform = order.every((r) => rowScale[r] === s0) && order.length === n;
    return (uniform ? tf.mul(y, s0) : tf.mul(y, tf.tensor2d(rowScale, [n, 1]))) as tf.Tensor2D;
  }
}

function expand(values: number[], times: number): number[] {
  if (times === 1) return values;
  const out: number[] = [];
  for (const v of values) for (let i = 0; i < times; i++) out.push(v);
  return out;
}
