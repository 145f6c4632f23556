import type * as tf from "@tensorflow/tfjs-core";
import { LORA_SGMV } from "../names.js";
import { addLoraRow, type GatherDims, gatherDims } from "./Bgmv.js";
import type { CpuBackendLike } from "./CpuBackendLike.js";

/** Contiguous row ranges [starts[s], ends[s]) that share adapter `adapters[s]` (-1 = none) and `scales[s]`. */
export interface SegmentArrays {
  starts: Int32Array;
  ends: Int32Array;
  adapters: Int32Array;
  scales: Float32Array;
}

/** Pure reference: rows of segment s get scales[s]·x·As[a_s]·Bs[a_s]; rows in no segment stay zero. */
export function sgmvImpl(
  x: Float32Array,
  As: Float32Array,
  Bs: Float32Array,
  seg: SegmentArrays,
  dims: GatherDims,
): Float32Array {
  const y = new Float32Array(dims.n * dims.outF);
  const u = new Float32Array(dims.r);
  for (let s = 0; s < seg.starts.length; s++) {
    const start = Math.max(0, seg.starts[s] as number);
    const end = Math.min(dims.n, seg.ends[s] as number);
    for (let i = start; i < end; i++)
      addLoraRow(y, x, As, Bs, i, seg.adapters[s] as number, seg.scales[s] as number, dims, u);
  }
  return y;
}

export function sgmvCpu({ inputs, backend }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo {
  const t = inputs as Record<string, tf.TensorInfo>;
  const be = backend as CpuBackendLike;
  const read = (name: string) => be.readSync((t[name] as tf.TensorInfo).dataId);
  const dims = gatherDims(t.x as tf.TensorInfo, t.As as tf.TensorInfo, t.Bs as tf.TensorInfo);
  const seg: SegmentArrays = {
    starts: read("starts") as Int32Array,
    ends: read("ends") as Int32Array,
    adapters: read("adapters") as Int32Array,
    scales: read("scales") as Float32Array,
  };
  const y = sgmvImpl(read("x") as Float32Array, read("As") as Float32Array, read("Bs") as Float32Array, seg, dims);
  return be.makeTensorInfo([dims.n, dims.outF], "float32", y);
}

export const sgmvCpuConfig: tf.KernelConfig = {
  kernelName: LORA_SGMV,
  backendName: "cpu",
  kernelFunc: sgmvCpu as tf.KernelFunc,
};
