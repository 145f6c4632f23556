import type * as tf from "@tensorflow/tfjs-core";
import { gatherDims } from "../cpu/Bgmv.js";
import { LORA_BGMV } from "../names.js";
import { LoraExpandProgram, LoraShrinkProgram, type WebGPUBackendLike } from "./loraPrograms.js";

export { bgmvImpl } from "../cpu/Bgmv.js";

/** webgpu kernel: per-row gather of As then Bs, in two WGSL passes (u [n, r] stays on the GPU). */
export function bgmvWebGPU({ inputs, backend }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo {
  const { x, As, Bs, idx, scales } = inputs as Record<string, tf.TensorInfo>;
  const be = backend as WebGPUBackendLike;
  const d = gatherDims(x as tf.TensorInfo, As as tf.TensorInfo, Bs as tf.TensorInfo);
  const u = be.runWebGPUProgram(
    new LoraShrinkProgram("rows", [d.n, d.r]),
    [x, As, idx, scales] as tf.TensorInfo[],
    "float32",
  );
  const y = be.runWebGPUProgram(
    new LoraExpandProgram("rows", [d.n, d.outF]),
    [u, Bs, idx] as tf.TensorInfo[],
    "float32",
  );
  be.disposeData(u.dataId);
  return y;
}

export const bgmvWebGPUConfig: tf.KernelConfig = {
  kernelName: LORA_BGMV,
  backendName: "webgpu",
  kernelFunc: bgmvWebGPU as tf.KernelFunc,
};
