import * as tf from "@tensorflow/tfjs-core";
import type { SegmentArrays } from "../cpu/Sgmv.js";
import { bgmvComposed, type GatherStrategy } from "./Bgmv.js";

/** `segments`: slice each segment's rows, two plain matmuls, concatenate; or any bgmv strategy on expanded rows. */
export type SegmentStrategy = "segments" | GatherStrategy;

export const SEGMENT_STRATEGIES: readonly SegmentStrategy[] = ["segments", "gather", "grouped", "onehot"];

/** Per-row (adapter, scale) from segments; rows in no segment get (-1, 0). */
export function segmentsToRows(seg: SegmentArrays, n: number): { idx: Int32Array; scales: Float32Array } {
  const idx = new Int32Array(n).fill(-1);
  const scales = new Float32Array(n);
  for (let s = 0; s < seg.starts.length; s++) {
    const a = seg.adapters[s] as number;
    const sc = seg.scales[s] as number;
    if (a < 0 || sc === 0) continue;
    idx.fill(a, seg.starts[s], seg.ends[s]);
    scales.fill(sc, seg.starts[s], seg.ends[s]);
  }
  return { idx, scales };
}

function sgmvSegments(x: tf.Tensor2D, As: tf.Tensor3D, Bs: tf.Tensor3D, seg: SegmentArrays): tf.Tensor2D {
  const [n, inF] = x.shape;
  const [, , r] = As.shape;
  const outF = Bs.shape[2];
  const order = Array.from(seg.starts.keys()).sort((p, q) => (seg.starts[p] as number) - (seg.starts[q] as number));
  const parts: tf.Tensor2D[] = [];
  let row = 0;
  for (const s of order) {
    const start = seg.starts[s] as number;
    const end = seg.ends[s] as number;
    const a = seg.adapters[s] as number;
    const sc = seg.scales[s] as number;
    if (end <= start || a < 0 || sc === 0) continue;
    if (start > row) parts.push(tf.zeros([start - row, outF]));
    const xs = start === 0 && end === n ? x : tf.slice(x, [start, 0], [end - start, inF]);
    const A = tf.reshape(tf.slice(As, [a, 0, 0], [1, inF, r]), [inF, r]);
    const B = tf.reshape(tf.slice(Bs, [a, 0, 0], [1, r, outF]), [r, outF]);
    parts.push(tf.matMul(tf.mul(tf.matMul(xs, A), sc), B));
    row = end;
  }
  if (row < n) parts.push(tf.zeros([n - row, outF]));
  return parts.length === 1 ? (parts[0] as tf.Tensor2D) : tf.concat(parts, 0);
}

/** The segmented LoRA term from existing ops (segments validated by the op: in range, not overlapping). */
export function sgmvComposed(
  x: tf.Tensor2D,
  As: tf.Tensor3D,
  Bs: tf.Tensor3D,
  seg: SegmentArrays,
  strategy: SegmentStrategy,
): tf.Tensor2D {
  if (strategy !== "segments") return bgmvComposed(x, As, Bs, segmentsToRows(seg, x.shape[0]), strategy);
  return tf.tidy(() => sgmvSegments(x, As, Bs, seg));
}
