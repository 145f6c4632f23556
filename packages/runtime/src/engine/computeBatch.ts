import * as tf from "@tensorflow/tfjs-core";
import { RuntimeError } from "../backend/errors.js";
import { type LoraBatchKernel, LoraBatchPlan } from "./LoraBatchPlan.js";
import type { MergedWeights } from "./MergedWeights.js";
import type { ResidentAdapter } from "./ResidentAdapter.js";
import type { LinearFn, ServableBase } from "./types.js";

/** One example of a batch: its flat input and shape, its resident adapter (null: none) and its scale. */
export interface BatchRow {
  input: ArrayLike<number>;
  shape: readonly number[];
  adapter: ResidentAdapter | null;
  scale: number;
}

export interface BatchComputeOptions {
  /** Merged mode: the weights with the batch's one adapter folded in (already `ensure`d by the caller). */
  merged?: MergedWeights;
  /** How heterogeneous batches get each row's LoRA term (default `auto`). */
  kernel?: LoraBatchKernel;
}

/**
 * One forward of `rows` through `base`: x·W once for all rows per linear module, plus each row's own LoRA
 * term from the batch plan (or the merged weights). Causal sequence bases get their rows right-padded to
 * the longest. Returns the batched output [rows, ...] as float32; every intermediate is freed.
 */
export function computeBatch(base: ServableBase, rows: readonly BatchRow[], options: BatchComputeOptions): tf.Tensor {
  const { merged, kernel } = options;
  return tf.tidy(() => {
    let shape = rows[0]?.shape as readonly number[];
    if (base.causalPadding && shape.length === 1) shape = [Math.max(...rows.map((p) => p.input.length))];
    const size = shape.reduce((a, b) => a * b, 1);
    const flat =
      base.inputDtype === "int32" ? new Int32Array(rows.length * size) : new Float32Array(rows.length * size);
    if (base.causalPadding) flat.fill(base.causalPadding.padId);
    rows.forEach((p, i) => {
      flat.set(p.input, i * size);
    });
    const input = tf.tensor(flat, [rows.length, ...shape], base.inputDtype);
    const plan = merged
      ? null
      : new LoraBatchPlan(
          rows.map((p) => ({ modules: p.adapter?.modules ?? null, scale: p.scale })),
          kernel,
        );
    const linear: LinearFn = (name, x) => {
      const mod = base.linearModules.get(name);
      if (!mod) throw new RuntimeError("InvalidArgument", `base '${base.id}' has no linear module '${name}'`);
      const lead = x.shape.slice(0, -1);
      const x2 = tf.reshape(x, [-1, mod.inFeatures]) as tf.Tensor2D;
      let y: tf.Tensor2D = tf.matMul(x2, merged?.weight(name) ?? mod.weight, false, mod.layout === "out_in");
      if (mod.bias) y = tf.add(y, mod.bias);
      const delta = plan?.delta(name, x2, mod.outFeatures);
      if (delta) y = tf.add(y, delta);
      return tf.reshape(y, [...lead, mod.outFeatures]);
    };
    const out = base.forward(input, linear);
    return out.dtype === "float32" ? out : tf.cast(out, "float32");
  });
}

/**
 * Each row's part of a batch output `data` (shape `outShape`, [rows, ...]): the row's values (a view) and
 * shape. Right-padded sequences keep only their own positions (`shapes[i][0]` of [batch, seq, ...]).
 */
export function splitBatchOutput(
  base: ServableBase,
  data: Float32Array,
  outShape: readonly number[],
  shapes: ReadonlyArray<readonly number[]>,
): Array<{ values: Float32Array; shape: number[] }> {
  const per = data.length / shapes.length;
  const seqOut = Boolean(base.causalPadding) && outShape.length >= 2;
  const perPos = seqOut ? per / (outShape[1] as number) : per;
  return shapes.map((rowShape, i) => {
    const len = seqOut ? (rowShape[0] as number) : 0;
    return {
      values: data.subarray(i * per, i * per + (seqOut ? len * perPos : per)),
      shape: seqOut ? [len, ...outShape.slice(2)] : outShape.slice(1),
    };
  });
}
