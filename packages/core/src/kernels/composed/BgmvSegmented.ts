import * as tf from "@tensorflow/tfjs-core";

/** One adapter of an unstacked list: A [in, r], B [r, out]; ranks may differ between adapters. */
export interface AdapterPair {
  A: tf.Tensor2D;
  B: tf.Tensor2D;
}

/**
 * The gathered LoRA term over a list of adapters, from existing ops, without stacking: per adapter, its
 * rows are gathered from x (gatherND, an exact copy), multiplied by the adapter's own A then B, and the
 * parts are scattered back to their rows; rows without an adapter stay zero. No adapter weight is copied
 * or padded, every matmul's right operand is a resident tensor (wasm keeps its packed form), and the flops
 * are one adapter's worth per row. One adapter for some rows runs on all rows with zero scales elsewhere.
 * `idx` and `scales` are validated and normalized by the op (-1 rows have scale 0).
 */
export function bgmvSegmented(
  x: tf.Tensor2D,
  adapters: readonly AdapterPair[],
  idx: Int32Array,
  scales: Float32Array,
): tf.Tensor2D {
  return tf.tidy(() => {
    const n = x.shape[0];
    const outF = (adapters[0] as AdapterPair).B.shape[1];
    const rowsOf = new Map<number, number[]>();
    idx.forEach((a, row) => {
      if (a < 0) return;
      const rows = rowsOf.get(a);
      if (rows) rows.push(row);
      else rowsOf.set(a, [row]);
    });
    if (rowsOf.size === 0) return tf.zeros([n, outF]);
    const scaleColumn = () => tf.tensor2d(scales, [n, 1]);
    if (rowsOf.size === 1) {
      const only = adapters[rowsOf.keys().next().value as number] as AdapterPair;
      return tf.matMul(tf.mul(tf.matMul(x, only.A), scaleColumn()), only.B);
    }
    const order: number[] = [];
    const parts: tf.Tensor2D[] = [];
    for (const [a, rows] of rowsOf) {
      const { A, B } = adapters[a] as AdapterPair;
      order.push(...rows);
      const xs = tf.gatherND(x, tf.tensor2d(rows, [rows.length, 1], "int32")) as tf.Tensor2D;
      parts.push(tf.matMul(tf.matMul(xs, A), B));
    }
    const y = tf.scatterND(tf.tensor2d(order, [order.length, 1], "int32"), tf.concat(parts, 0), [n, outF]);
    // Per-row scales commute with B: one multiply over the whole result instead of one per adapter.
    const s0 = scales[order[0] as number] as number;
    const uniform = order.length === n && order.every((r) => scales[r] === s0);
    return (uniform ? tf.mul(y, s0) : tf.mul(y, scaleColumn())) as tf.Tensor2D;
  });
}
