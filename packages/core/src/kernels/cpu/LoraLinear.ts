import type * as tf from "@tensorflow/tfjs-core";
import { LORA_LINEAR } from "../names.js";
import type { CpuBackendLike } from "./CpuBackendLike.js";

/** Sizes of one fused LoRA linear: x [n,in], W [in,out], A [in,r], B [r,out]. */
export interface LinearDims {
  n: number;
  inF: number;
  outF: number;
  r: number;
}

/** Pure reference: y = x·W + scale·(x·A)·B (+ bias), row-major Float32Arrays. */
export function loraLinearImpl(
  x: Float32Array,
  W: Float32Array,
  A: Float32Array,
  B: Float32Array,
  scale: number,
  bias: Float32Array | undefined,
  { n, inF, outF, r }: LinearDims,
): Float32Array {
  const y = new Float32Array(n * outF);
  const u = new Float32Array(r);
  for (let i = 0; i < n; i++) {
    const row = y.subarray(i * outF, (i + 1) * outF);
    if (bias) row.set(bias);
    u.fill(0);
    for (let p = 0; p < inF; p++) {
      const xv = x[i * inF + p] as number; // no skip on 0: 0·Inf must give NaN, as in a matrix product
      const w = p * outF;
      for (let o = 0; o < outF; o++) row[o] = (row[o] as number) + xv * (W[w + o] as number);
      for (let j = 0; j < r; j++) u[j] = (u[j] as number) + xv * (A[p * r + j] as number);
    }
    for (let j = 0; j < r; j++) {
      const uv = (u[j] as number) * scale;
      const b = j * outF;
      for (let o = 0; o < outF; o++) row[o] = (row[o] as number) + uv * (B[b + o] as number);
    }
  }
  return y;
}

/** cpu kernel: reads the inputs' TypedArrays and runs the reference loop. */
export function loraLinearCpu({ inputs, backend, attrs }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo {
  const { x, W, A, B, bias } = inputs as Record<string, tf.TensorInfo | undefined>;
  const be = backend as CpuBackendLike;
  const read = (t: tf.TensorInfo) => be.readSync(t.dataId) as Float32Array;
  const xi = x as tf.TensorInfo;
  const Ai = A as tf.TensorInfo;
  const Wi = W as tf.TensorInfo;
  const dims = {
    n: xi.shape[0] as number,
    inF: xi.shape[1] as number,
    outF: Wi.shape[1] as number,
    r: Ai.shape[1] as number,
  };
  const scale = Number((attrs as { scale?: number } | undefined)?.scale ?? 1);
  const y = loraLinearImpl(
    read(xi),
    read(Wi),
    read(Ai),
    read(B as tf.TensorInfo),
    scale,
    bias ? read(bias) : undefined,
    dims,
  );
  return be.makeTensorInfo([dims.n, dims.outF], "float32", y);
}

export const loraLinearCpuConfig: tf.KernelConfig = {
  kernelName: LORA_LINEAR,
  backendName: "cpu",
  kernelFunc: loraLinearCpu as tf.KernelFunc,
};
