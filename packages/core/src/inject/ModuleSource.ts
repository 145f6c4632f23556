import type * as tf from "@tensorflow/tfjs-core";
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
}
