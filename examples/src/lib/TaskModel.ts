import type { LinearHost, TrainableModel } from "@lowrank/core";
import * as tf from "@tensorflow/tfjs-core";
import type { LayersModel } from "@tensorflow/tfjs-layers";

/**
 * One model of a task, in the forms the experiment needs: `host` for `injectLora`, `full` to train every
 * weight (base training, full fine-tuning), named weights to save and compare.
 */
export interface TaskModel {
  host: LayersModel | LinearHost;
  full: TrainableModel;
  /** Every weight by parameter name (`fc1.kernel`). */
  weights(): Map<string, tf.Variable>;
  dispose(): void;
}

/** Copies every weight of `from` into `to` (same architecture). */
export function copyWeights(from: TaskModel, to: TaskModel): void {
  const src = from.weights();
  for (const [name, v] of to.weights()) {
    const s = src.get(name);
    if (!s || s.shape.join() !== v.shape.join())
      throw new Error(`copyWeights: expected weight ${name} [${v.shape}] in the source`);
    v.assign(s);
  }
}

/** A `TaskModel` over a built tfjs-layers model. */
export function layersTaskModel(model: LayersModel): TaskModel {
  const weights = () => {
    const out = new Map<string, tf.Variable>();
    for (const layer of model.layers)
      for (const w of layer.weights) {
        const leaf = w.originalName.split("/").pop() ?? w.originalName;
        out.set(`${layer.name}.${leaf}`, w.read() as tf.Variable);
      }
    return out;
  };
  return {
    host: model,
    full: {
      forward: (x, opts) => model.apply(x, { training: opts.training ?? false }) as tf.Tensor,
      trainableVariables: () => model.trainableWeights.map((w) => w.read() as tf.Variable),
    },
    weights,
    dispose: () => model.dispose(),
  };
}

/** Copies of every weight's values (for bit-identity checks). */
export function snapshot(weights: Map<string, tf.Variable>): Map<string, Float32Array> {
  return new Map([...weights].map(([k, v]) => [k, Float32Array.from(v.dataSync() as Float32Array)]));
}

/** Runs `forward` over `x` in batches (bounded memory) and concatenates the outputs on the host. */
export function predictBatched(forward: (x: tf.Tensor) => tf.Tensor, x: tf.Tensor, batch = 512): tf.Tensor {
  const n = x.shape[0] as number;
  const parts: tf.Tensor[] = [];
  for (let s = 0; s < n; s += batch) parts.push(tf.tidy(() => forward(tf.slice(x, s, Math.min(batch, n - s)))));
  const out = tf.concat(parts, 0);
  tf.dispose(parts);
  return out;
}

/** Fraction of rows whose argmax over the last axis equals the integer label. */
export function accuracy(forward: (x: tf.Tensor) => tf.Tensor, split: { x: tf.Tensor; y: tf.Tensor }): number {
  const logits = predictBatched(forward, split.x);
  const acc = tf.tidy(
    () =>
      tf.mean(tf.cast(tf.equal(tf.argMax(logits, -1), tf.cast(split.y, "int32")), "float32")).dataSync()[0] as number,
  );
  logits.dispose();
  return acc;
}
