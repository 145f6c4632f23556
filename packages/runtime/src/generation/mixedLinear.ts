import * as tf from "@tensorflow/tfjs-core";
import { RuntimeError } from "../backend/errors.js";
import type { LoraBatchPlan } from "../engine/LoraBatchPlan.js";
import type { LinearFn, LinearModule, ServableBase } from "../engine/types.js";
import type { StackedLora } from "./StackedLora.js";

/** The right operand of a module's matmul: its weight, and whether it is stored [out, in] (transposed). */
export type WeightFor = (name: string, mod: LinearModule) => { weight: tf.Tensor2D; transposed: boolean };

/**
 * The linear modules of one heterogeneous batch: x·W + b once for every row of the frozen base, plus each
 * row's own LoRA term from `plan` (rows = sequences; positions per row = rows of x / sequences).
 * Call inside a tidy.
 */
export function mixedLinear(base: ServableBase, plan: LoraBatchPlan | StackedLora, weightFor?: WeightFor): LinearFn {
  return (name, x) => {
    const mod = base.linearModules.get(name);
    if (!mod) throw new RuntimeError("InvalidArgument", `base '${base.id}' has no linear module '${name}'`);
    const lead = x.shape.slice(0, -1);
    const x2 = tf.reshape(x, [-1, mod.inFeatures]) as tf.Tensor2D;
    const w = weightFor?.(name, mod) ?? { weight: mod.weight, transposed: mod.layout === "out_in" };
    let y: tf.Tensor2D = tf.matMul(x2, w.weight, false, w.transposed);
    if (mod.bias) y = tf.add(y, mod.bias);
    const delta = plan.delta(name, x2, mod.outFeatures);
    if (delta) y = tf.add(y, delta);
    return tf.reshape(y, [...lead, mod.outFeatures]);
  };
}
