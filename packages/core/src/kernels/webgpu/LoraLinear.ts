import type * as tf from "@tensorflow/tfjs-core";
import { LORA_LINEAR } from "../names.js";
import { LoraExpandProgram, LoraShrinkProgram, type WebGPUBackendLike } from "./loraPrograms.js";

export { loraLinearImpl } from "../cpu/LoraLinear.js";

/** webgpu kernel: one WGSL pass for u = scale·x·A, one for y = x·W + u·B (+ bias). */
export function loraLinearWebGPU({ inputs, backend, attrs }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo {
  const { x, W, A, B, bias } = inputs as Record<string, tf.TensorInfo | undefined>;
  const be = backend as WebGPUBackendLike;
  const xi = x as tf.TensorInfo;
  const n = xi.shape[0] as number;
  const r = (A as tf.TensorInfo).shape[1] as number;
  const outF = (W as tf.TensorInfo).shape[1] as number;
  const scale = Number((attrs as { scale?: number } | undefined)?.scale ?? 1);
  const u = be.runWebGPUProgram(new LoraShrinkProgram("dense", [n, r]), [xi, A as tf.TensorInfo], "float32", [
    { type: "float32", data: [scale] },
  ]);
  const ins = [xi, W as tf.TensorInfo, u, B as tf.TensorInfo, ...(bias ? [bias] : [])];
  const y = be.runWebGPUProgram(new LoraExpandProgram("dense", [n, outF], Boolean(bias)), ins, "float32");
  be.disposeData(u.dataId);
  return y;
}

export const loraLinearWebGPUConfig: tf.KernelConfig = {
  kernelName: LORA_LINEAR,
  backendName: "webgpu",
  kernelFunc: loraLinearWebGPU as tf.KernelFunc,
};
