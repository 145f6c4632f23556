import * as tf from "@tensorflow/tfjs-core";
import { bgmvCpuConfig } from "./cpu/Bgmv.js";
import { loraLinearCpuConfig } from "./cpu/LoraLinear.js";
import { sgmvCpuConfig } from "./cpu/Sgmv.js";
import { loraLinearGradConfig } from "./loraLinearGrad.js";
import { bgmvWebGPUConfig } from "./webgpu/Bgmv.js";
import { loraLinearWebGPUConfig } from "./webgpu/LoraLinear.js";
import { sgmvWebGPUConfig } from "./webgpu/Sgmv.js";

/** Every custom LoRA kernel, by backend. wasm has none: its kernels live in its binary (ops compose instead). */
export const LORA_KERNEL_CONFIGS: readonly tf.KernelConfig[] = [
  loraLinearCpuConfig,
  bgmvCpuConfig,
  sgmvCpuConfig,
  loraLinearWebGPUConfig,
  bgmvWebGPUConfig,
  sgmvWebGPUConfig,
];

/**
 * Register the LoRA kernels (cpu, webgpu) and the LoraLinear gradient in tfjs's global registry.
 * Idempotent: registers only what is missing, and returns how many configs it added (0 on a repeat call).
 * Registering for a backend that is not (yet) initialized is fine: kernels are looked up per call.
 */
export function registerLoraKernels(): number {
  let added = 0;
  for (const config of LORA_KERNEL_CONFIGS) {
    if (tf.getKernel(config.kernelName, config.backendName)) continue;
    tf.registerKernel(config);
    added++;
  }
  if (!tf.getGradient(loraLinearGradConfig.kernelName)) {
    tf.registerGradient(loraLinearGradConfig);
    added++;
  }
  return added;
}
