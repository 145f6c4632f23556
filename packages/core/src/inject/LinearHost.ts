import type * as tf from "@tensorflow/tfjs-core";
import type { LoraLinear } from "../lora/LoraLinear.js";

/**
 * One linear-like module of a host model, by its Hugging Face name (`transformer.h.0.attn.c_attn`).
 *
 * Contract for hosts (the runtime's GPT-2 and BERT implement it):
 * - `weight` is the base weight as a `tf.Variable` in tfjs Dense layout **[in, out]** (for a conv kernel
 *   [kh, kw, cin, cout], read as [kh·kw·cin, cout]; for an embedding table [vocab, dim]). A torch
 *   `nn.Linear` weight [out, in] is transposed once when the host loads it (`baseWeightToTfLayout`);
 *   GPT-2's Conv1D (`fan_in_fan_out`) is already [in, out]. Merging writes into this variable.
 * - `injectLora` sets `lora` to a `LoraLinear` over that weight (and bias). While `lora` is set, the host's
 *   forward must compute this module as `lora.forward(x, { training })` (which adds the bias itself)
 *   instead of `x·W + b`; for an embedding, `lora.forwardEmbedding(ids)`. Removing sets it back to undefined.
 */
export interface LinearModule {
  kind?: "linear" | "conv2d" | "embedding";
  weight: tf.Variable;
  bias?: tf.Variable | null;
  lora?: LoraLinear;
}

/** A model that exposes its linear modules by name, so LoRA can be injected without knowing the architecture. */
export interface LinearHost {
  linearModules(): Map<string, LinearModule>;
  /** Modules that `target_modules: "all-linear"` leaves out (the output head, e.g. `lm_head`). */
  outputModuleNames?(): string[];
  /**
   * Every weight of the model by parameter name (`transformer.h.0.ln_1.bias`), for `modules_to_save`,
   * `bias: "all"` and parameter counts. Without it only the linear modules are known.
   */
  namedVariables?(): Map<string, tf.Variable>;
  /** The model's forward pass, used by `trainAdapter`. */
  forward?(x: tf.Tensor, opts: { training: boolean }): tf.Tensor;
}

export function isLinearHost(x: unknown): x is LinearHost {
  return typeof x === "object" && x !== null && typeof (x as LinearHost).linearModules === "function";
}
