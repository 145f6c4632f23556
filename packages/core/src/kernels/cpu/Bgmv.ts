import type * as tf from "@tensorflow/tfjs-core";
import { LORA_BGMV } from "../names.js";
import type { CpuBackendLike } from "./CpuBackendLike.js";

/** Sizes of a gathered LoRA batch: x [n,in], As [k,in,r], Bs [k,r,out]. */
export interface GatherDims {
  n: number;
  inF: number;
  outF: number;
  r: number;
  k: number;
}

/**
 * Adds scale·x_i·As[a]·Bs[a] to row `i` of `y` (one row, one adapter). Shared by the bgmv and sgmv
 * references; an adapter index outside [0, k) or a zero scale leaves the row untouched.
 */
export function addLoraRow(
  y: Float32Array,
  x: Float32Array,
  As: Float32Array,
  Bs: Float32Array,
  i: number,
  a: number,
  scale: number,
  { inF, outF, r, k }: GatherDims,
  u: Float32Array,
): void {
  if (a < 0 || a >= k || scale === 0) return;
  u.fill(0);
  const aBase = a * inF * r;
  for (let p = 0; p < inF; p++) {
    const xv = x[i * inF + p] as number;
    for (let j = 0; j < r; j++) u[j] = (u[j] as number) + xv * (As[aBase + p * r + j] as number);
  }
  const bBase = a * r * outF;
  const yBase = i * outF;
  for (let j = 0; j < r; j++) {
    const uv = (u[j] as number) * scale;
    for (let o = 0; o < outF; o++) y[yBase + o] = (y[yBase + o] as number) + uv * (Bs[bBase + j * outF + o] as number);
  }
}

/** Pure reference: row i = scales[i]·x_i·As[idx[i]]·Bs[idx[i]], zero where idx[i] = -1. */
export function bgmvImpl(
  x: Float32Array,
  As: Float32Array,
  Bs: Float32Array,
  idx: Int32Array,
  scales: Float32Array,
  dims: GatherDims,
): Float32Array {
  const y = new Float32Array(dims.n * dims.outF);
  const u = new Float32Array(dims.r);
  for (let i = 0; i < dims.n; i++) addLoraRow(y, x, As, Bs, i, idx[i] as number, scales[i] as number, dims, u);
  return y;
}

export function gatherDims(x: tf.TensorInfo, As: tf.TensorInfo, Bs: tf.TensorInfo): GatherDims {
  return {
    n: x.shape[0] as number,
    inF: x.shape[1] as number,
    k: As.shape[0] as number,
    r: As.shape[2] as number,
    outF: Bs.shape[2] as number,
  };
}

export function bgmvCpu({ inputs, backend }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo {
  const { x, As, Bs, idx, scales } = inputs as Record<string, tf.TensorInfo>;
  const be = backend as CpuBackendLike;
  const read = (t: tf.TensorInfo | undefined) => be.readSync((t as tf.TensorInfo).dataId);
  const dims = gatherDims(x as tf.TensorInfo, As as tf.TensorInfo, Bs as tf.TensorInfo);
  const y = bgmvImpl(
    read(x) as Float32Array,
    read(As) as Float32Array,
    read(Bs) as Float32Array,
    read(idx) as Int32Array,
    read(scales) as Float32Array,
    dims,
  );
  return be.makeTensorInfo([dims.n, dims.outF], "float32", y);
}

export const bgmvCpuConfig: tf.KernelConfig = {
  kernelName: LORA_BGMV,
  backendName: "cpu",
  kernelFunc: bgmvCpu as tf.KernelFunc,
};
