import type * as tf from "@tensorflow/tfjs-core";
import { gatherDims } from "../cpu/Bgmv.js";
import { LORA_SGMV } from "../names.js";
import { LoraExpandProgram, LoraShrinkProgram, type WebGPUBackendLike } from "./loraPrograms.js";

export { sgmvImpl } from "../cpu/Sgmv.js";

/** webgpu kernel: each row finds its segment in the shader (segments are few), then shrink and expand. */
export function sgmvWebGPU({ inputs, backend }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo {
  const t = inputs as Record<string, tf.TensorInfo>;
  const be = backend as WebGPUBackendLike;
  const d = gatherDims(t.x as tf.TensorInfo, t.As as tf.TensorInfo, t.Bs as tf.TensorInfo);
  const seg = [t.starts, t.ends, t.adapters, t.scales] as tf.TensorInfo[];
  const u = be.runWebGPUProgram(
    new LoraShrinkProgram("segments", [d.n, d.r]),
    [t.x as tf.TensorInfo, t.As as tf.TensorInfo, ...seg],
    "float32",
  );
  const y = be.runWebGPUProgram(
    new LoraExpandProgram("segments", [d.n, d.outF]),
    [u, t.Bs as tf.TensorInfo, ...seg.slice(0, 3)],
    "float32",
  );
  be.disposeData(u.dataId);
  return y;
}

export const sgmvWebGPUConfig: tf.KernelConfig = {
  kernelName: LORA_SGMV,
  backendName: "webgpu",
  kernelFunc: sgmvWebGPU as tf.KernelFunc,
};
