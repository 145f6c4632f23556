import * as tf from "@tensorflow/tfjs-core";

/**
 * Ways to build the gathered LoRA term from existing ops:
 * - `gather`: gather each row's A and B ([n,in,r], [n,r,out]) and run two batched matmuls;
 * - `grouped`: group rows by adapter on the host, two plain matmuls per adapter, then put rows back;
 * - `onehot`: one matmul against all adapters side by side ([in, k·r]), mask with the row's one-hot
 *   scale, one matmul against all Bs ([k·r, out]) — k times the flops, but only two big matmuls.
 */
export type GatherStrategy = "gather" | "grouped" | "onehot";

export const GATHER_STRATEGIES: readonly GatherStrategy[] = ["gather", "grouped", "onehot"];

/** Per-row adapter index and scale on the host, with `-1` rows (and zero scales) normalized to (-1, 0). */
export interface RowPlan {
  idx: Int32Array;
  scales: Float32Array;
}

function adapterMatrix(stack: tf.Tensor3D, a: number): tf.Tensor2D {
  const [, rows, cols] = stack.shape;
  return tf.reshape(tf.slice(stack, [a, 0, 0], [1, rows, cols]), [rows, cols]);
}

function bgmvGather(x: tf.Tensor2D, As: tf.Tensor3D, Bs: tf.Tensor3D, { idx, scales }: RowPlan): tf.Tensor2D {
  const [n, inF] = x.shape;
  const outF = Bs.shape[2];
  const safe = tf.tensor1d(
    idx.map((a) => Math.max(a, 0)),
    "int32",
  );
  const u = tf.matMul(tf.reshape(x, [n, 1, inF]), tf.gather(As, safe));
  const scaled = tf.mul(u, tf.tensor3d(scales, [n, 1, 1]));
  return tf.reshape(tf.matMul(scaled, tf.gather(Bs, safe)), [n, outF]);
}

function bgmvGrouped(x: tf.Tensor2D, As: tf.Tensor3D, Bs: tf.Tensor3D, { idx, scales }: RowPlan): tf.Tensor2D {
  const n = x.shape[0];
  const outF = Bs.shape[2];
  const groups = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const a = idx[i] as number;
    if (a < 0) continue;
    const rows = groups.get(a);
    if (rows) rows.push(i);
    else groups.set(a, [i]);
  }
  const parts: tf.Tensor2D[] = [];
  const order: number[] = [];
  for (const [a, rows] of groups) {
    const xa = rows.length === n ? x : tf.gather(x, tf.tensor1d(rows, "int32"));
    const s = tf.tensor2d(
      rows.map((i) => scales[i] as number),
      [rows.length, 1],
    );
    parts.push(tf.matMul(tf.mul(tf.matMul(xa, adapterMatrix(As, a)), s), adapterMatrix(Bs, a)));
    order.push(...rows);
  }
  if (order.length === n && groups.size === 1) return parts[0] as tf.Tensor2D;
  const missing = n - order.length;
  if (missing > 0) parts.push(tf.zeros([missing, outF]));
  // position of each original row in the concatenation (rows without an adapter sit in the zero block)
  const inverse = new Int32Array(n).fill(-1);
  order.forEach((row, pos) => {
    inverse[row] = pos;
  });
  let z = order.length;
  for (let i = 0; i < n; i++) if (inverse[i] === -1) inverse[i] = z++;
  return tf.gather(tf.concat(parts, 0), tf.tensor1d(inverse, "int32"));
}

function bgmvOneHot(x: tf.Tensor2D, As: tf.Tensor3D, Bs: tf.Tensor3D, { idx, scales }: RowPlan): tf.Tensor2D {
  const n = x.shape[0];
  const [k, inF, r] = As.shape;
  const outF = Bs.shape[2];
  const mask = new Float32Array(n * k * r);
  for (let i = 0; i < n; i++) {
    const a = idx[i] as number;
    if (a >= 0) mask.fill(scales[i] as number, (i * k + a) * r, (i * k + a + 1) * r);
  }
  const aCat = tf.reshape(tf.transpose(As, [1, 0, 2]), [inF, k * r]);
  const u = tf.mul(tf.matMul(x, aCat), tf.tensor2d(mask, [n, k * r]));
  return tf.matMul(u, tf.reshape(Bs, [k * r, outF]));
}

/** The gathered LoRA term built from existing ops with the chosen strategy (inputs validated by the op). */
export function bgmvComposed(
  x: tf.Tensor2D,
  As: tf.Tensor3D,
  Bs: tf.Tensor3D,
  plan: RowPlan,
  strategy: GatherStrategy,
): tf.Tensor2D {
  return tf.tidy(() => {
    if (!plan.idx.some((a) => a >= 0)) return tf.zeros([x.shape[0], Bs.shape[2]]);
    if (strategy === "gather") return bgmvGather(x, As, Bs, plan);
    if (strategy === "grouped") return bgmvGrouped(x, As, Bs, plan);
    return bgmvOneHot(x, As, Bs, plan);
  });
}
