import type { LossFn } from "@lowrank/core";
import * as tf from "@tensorflow/tfjs-core";
import type { Split } from "./experiment.js";

/** Windows of `len` tokens every `stride` tokens: x = ids[s, s + len), y = ids[s + 1, s + len + 1). */
export function lmWindows(ids: readonly number[], len: number, stride: number): Split {
  const starts: number[] = [];
  for (let s = 0; s + len + 1 <= ids.length; s += stride) starts.push(s);
  const x = new Int32Array(starts.length * len);
  const y = new Int32Array(starts.length * len);
  starts.forEach((s, i) => {
    for (let j = 0; j < len; j++) {
      x[i * len + j] = ids[s + j] as number;
      y[i * len + j] = ids[s + j + 1] as number;
    }
  });
  return { x: tf.tensor2d(x, [starts.length, len], "int32"), y: tf.tensor2d(y, [starts.length, len], "int32") };
}

/** Mean next-token cross-entropy (nats) over every position: labels int [n, t], logits [n, t, vocab]. */
export const nextTokenLoss: LossFn = (yTrue, yPred) =>
  tf.tidy(() => {
    const vocab = yPred.shape[yPred.rank - 1] as number;
    const logp = tf.logSoftmax(yPred, -1);
    return tf.neg(tf.mean(tf.sum(tf.mul(tf.oneHot(tf.cast(yTrue, "int32"), vocab), logp), -1))) as tf.Scalar;
  });

/** Mean cross-entropy (nats per token) of `forward` over a split, in batches. */
export function meanLoss(forward: (x: tf.Tensor) => tf.Tensor, split: Split, batch = 64): number {
  const n = split.x.shape[0] as number;
  let total = 0;
  for (let s = 0; s < n; s += batch) {
    const m = Math.min(batch, n - s);
    total +=
      m *
      (tf.tidy(() => nextTokenLoss(tf.slice(split.y, s, m), forward(tf.slice(split.x, s, m))).dataSync()[0]) as number);
  }
  return total / n;
}
