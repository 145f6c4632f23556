import * as tf from "@tensorflow/tfjs-core";
import { RuntimeError } from "../backend/errors.js";
import { linearFitProblem } from "../engine/linearFit.js";
import type { AdapterWeights, LinearFn, ServableBase } from "../engine/types.js";

/** A model whose linear modules run through `linear` (the runtime's GPT-2, BERT and DenseClassifier). */
export interface LinearModel extends Pick<ServableBase, "linearModules"> {
  readonly linear: LinearFn;
  readonly architecture: string;
}

/**
 * A `LinearFn` that adds one PEFT adapter to a base: `y = base(x) + scale·scaling·(x·Aᵀ)·Bᵀ` for the
 * modules the adapter has (A [r, in], B [out, r]); other modules run as the base. Throws
 * `AdapterMismatch` (expected vs found) when a module is missing or its shapes disagree with the base.
 */
export function adapterLinear(base: LinearModel, adapter: AdapterWeights | undefined, scale = 1): LinearFn {
  if (!adapter || scale === 0) return base.linear;
  for (const [name, w] of adapter.modules) {
    const m = base.linearModules.get(name);
    if (!m) {
      throw new RuntimeError(
        "AdapterMismatch",
        `adapter module '${name}': expected a linear module of ${base.architecture}, found none (e.g. ${[...base.linearModules.keys()][0] ?? "-"})`,
      );
    }
    // The one per-module fit check (@lowrank/formats), against the module as the model holds it.
    const problem = linearFitProblem(name, m, w.a.shape, w.b.shape);
    if (problem) throw new RuntimeError("AdapterMismatch", `adapter ${problem}`);
  }
  return (name, x) => {
    const w = adapter.modules.get(name);
    const y = base.linear(name, x);
    if (!w) return y;
    return tf.tidy(() => {
      const fin = x.shape[x.shape.length - 1] as number;
      const x2 = tf.reshape(x, [-1, fin]);
      const delta = tf.matMul(tf.matMul(x2, w.a, false, true), w.b, false, true);
      return tf.add(y, tf.reshape(tf.mul(delta, scale * w.scaling), y.shape));
    });
  };
}
