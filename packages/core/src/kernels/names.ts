/** Kernel names of the LoRA ops, as registered in the TensorFlow.js kernel registry. */
export const LORA_LINEAR = "LoraLinear";
export const LORA_BGMV = "LoraBgmv";
export const LORA_SGMV = "LoraSgmv";

export type LoraKernelName = typeof LORA_LINEAR | typeof LORA_BGMV | typeof LORA_SGMV;

export const LORA_KERNEL_NAMES: readonly LoraKernelName[] = [LORA_LINEAR, LORA_BGMV, LORA_SGMV];

/**
 * Inputs, by kernel:
 * - LoraLinear: x [n,in], W [in,out], A [in,r], B [r,out], bias? [out]; attrs { scale }.
 * - LoraBgmv: x [n,in], As [k,in,r], Bs [k,r,out], idx int32 [n] (-1 = none), scales [n].
 * - LoraSgmv: x [n,in], As, Bs, starts/ends/adapters int32 [s], scales [s] (per segment).
 */
export interface LoraLinearAttrs {
  scale: number;
}
