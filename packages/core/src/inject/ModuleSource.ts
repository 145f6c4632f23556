import * as tf from "@tensorflow/tfjs-core";
import type { LoraLinear } from "../lora/LoraLinear.js";

/** Internal: one module LoRA can attach to, whatever model it lives in. */
export interface ModuleSite {
  name: string;
  kind: "linear" | "conv2d" | "embedding";
  weight: tf.Variable;
  bias: tf.Variable | null;
  isOutputHead: boolean;
  /** Route the module's forward through `lora`. */
  attach(lora: LoraLinear): void;
  /** Restore the module's own forward. */
  detach(): void;
}

/** Internal: what `injectLora` needs from a model. */
export interface ModuleSource {
  sites(): ModuleSite[];
  /** Every base variable by parameter name (`<module>.weight`, `<module>.bias`, ...). */
  namedVariables(): Map<string, tf.Variable>;
  forward?(x: tf.Tensor, opts: { training: boolean }): tf.Tensor;
  /** Called when a base variable's trainability changes (tfjs-layers keeps its own flags). */
  setTrainable?(name: string, trainable: boolean): void;
  /** The model's own trainability flag of a base variable, where it keeps one (tfjs-layers). */
  trainableFlag?(name: string): boolean | undefined;
  /**
   * A base parameter as PEFT files hold it (`modules_to_save` copies): its torch name and layout. Returns a
   * new tensor. `fanInFanOut`: the config's flag (GPT-2's Conv1D weights are stored [in, out] by torch too).
   */
  toPeftParameter(key: string, value: tf.Tensor, fanInFanOut: boolean): { key: string; value: tf.Tensor };
  /** The inverse: a PEFT parameter (`<module>.<param>`, torch layout) as this model's key and layout, or null if it has none. */
  fromPeftParameter(peftKey: string, value: tf.Tensor, fanInFanOut: boolean): { key: string; value: tf.Tensor } | null;
}

/** torch [out, in] <-> tfjs [in, out]; conv torch [cout, cin, kh, kw] <-> tfjs [kh, kw, cin, cout]. */
export function torchLayout(value: tf.Tensor, direction: "toTorch" | "fromTorch"): tf.Tensor {
  if (value.rank === 2) return tf.transpose(value);
  if (value.rank === 4) return tf.transpose(value, direction === "toTorch" ? [3, 2, 0, 1] : [2, 3, 1, 0]);
  return tf.clone(value);
}
