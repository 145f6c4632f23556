import * as tf from "@tensorflow/tfjs-core";
// tfjs-core's Node entry registers no gradients (the umbrella package does, and so does tfjs-layers'
// bundle, which is a peer dependency here anyway); tfjs-core's own register_all_gradients is not
// importable from Node ESM (extensionless imports). Training needs them, so load tfjs-layers.
import "@tensorflow/tfjs-layers";
import { CoreError } from "../errors.js";
import { Rng } from "../random.js";

/** What `trainAdapter` trains: a `LoraModel` fits this, as does any model with a forward and a variable list. */
export interface TrainableModel {
  forward(x: tf.Tensor, opts: { training?: boolean }): tf.Tensor;
  trainableVariables(): tf.Variable[];
  /** Reseeds dropout so a run is reproducible from `seed`. */
  reseed?(seed: number): void;
}

export type LossName = "meanSquaredError" | "softmaxCrossEntropy" | "sigmoidCrossEntropy";
export type LossFn = (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Scalar;
export type MetricFn = (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Scalar;

export interface TrainStep {
  step: number;
  epoch: number;
  loss: number;
  metrics: Record<string, number>;
}

export interface TrainAdapterOptions {
  model: TrainableModel;
  /** Whole data set as tensors; rows are examples. For `softmaxCrossEntropy`, `y` is one-hot [n, classes] or int labels [n]. */
  data: { x: tf.Tensor; y: tf.Tensor };
  loss: LossName | LossFn;
  /** Default `tf.train.adam(learningRate)`, created and disposed here. A given optimizer is not disposed. */
  optimizer?: tf.Optimizer;
  learningRate?: number;
  epochs?: number;
  batchSize?: number;
  /** Seeds shuffling and dropout: same seed, same model init and data -> identical losses. */
  seed?: number;
  shuffle?: boolean;
  /** `"accuracy"` (argmax match) or custom metrics by name. */
  metrics?: Array<"accuracy"> | Record<string, MetricFn>;
  onStep?: (s: TrainStep) => void | Promise<void>;
}

export interface TrainResult {
  steps: number;
  losses: number[];
}

function lossFn(loss: LossName | LossFn): LossFn {
  if (typeof loss === "function") return loss;
  switch (loss) {
    case "meanSquaredError":
      return (y, p) => tf.losses.meanSquaredError(y, p) as tf.Scalar;
    case "sigmoidCrossEntropy":
      return (y, p) => tf.losses.sigmoidCrossEntropy(y, p) as tf.Scalar;
    case "softmaxCrossEntropy":
      return (y, p) => {
        const labels = y.rank === p.rank ? y : tf.oneHot(tf.cast(y, "int32"), p.shape[p.rank - 1] as number);
        return tf.losses.softmaxCrossEntropy(labels, p) as tf.Scalar;
      };
    default:
      throw new CoreError(
        "InvalidArgument",
        `trainAdapter loss: expected "meanSquaredError", "softmaxCrossEntropy", "sigmoidCrossEntropy" or a function, found ${JSON.stringify(loss)}`,
      );
  }
}

const accuracy: MetricFn = (y, p) => {
  const labels = y.rank === p.rank ? tf.argMax(y, -1) : tf.cast(y, "int32");
  return tf.mean(tf.cast(tf.equal(tf.argMax(p, -1), labels), "float32")) as tf.Scalar;
};

/**
 * Fits only `model.trainableVariables()` (the adapters) with a tfjs optimizer. Reproducible from `seed`,
 * reports `{ step, epoch, loss, metrics }` after each step, and keeps `tf.memory().numTensors` flat across steps.
 */
export async function trainAdapter(opts: TrainAdapterOptions): Promise<TrainResult> {
  const { model, data } = opts;
  const epochs = opts.epochs ?? 1;
  const batchSize = opts.batchSize ?? 32;
  const seed = opts.seed ?? 0;
  const n = data.x.shape[0] as number;
  if (data.y.shape[0] !== n)
    throw new CoreError(
      "ShapeMismatch",
      `trainAdapter: expected ${n} targets (one per input row), found ${data.y.shape[0]}`,
    );
  if (!Number.isInteger(batchSize) || batchSize <= 0)
    throw new CoreError("InvalidArgument", `trainAdapter: expected a positive integer batchSize, found ${batchSize}`);
  if (!Number.isInteger(epochs) || epochs < 0)
    throw new CoreError("InvalidArgument", `trainAdapter: expected a non-negative integer epochs, found ${epochs}`);
  const vars = model.trainableVariables();
  if (vars.length === 0)
    throw new CoreError(
      "InvalidArgument",
      "trainAdapter: expected trainable adapter variables, found none (is an adapter active?)",
    );
  const loss = lossFn(opts.loss);
  const metricFns: Record<string, MetricFn> = Array.isArray(opts.metrics)
    ? Object.fromEntries(opts.metrics.map((m) => [m, accuracy]))
    : (opts.metrics ?? {});
  const optimizer = opts.optimizer ?? tf.train.adam(opts.learningRate ?? 1e-3);
  const rng = new Rng(seed);
  model.reseed?.(rng.int());
  const losses: number[] = [];
  let step = 0;
  try {
    for (let epoch = 0; epoch < epochs; epoch++) {
      const order = opts.shuffle === false ? Int32Array.from({ length: n }, (_, i) => i) : rng.permutation(n);
      for (let start = 0; start < n; start += batchSize) {
        const idx = order.subarray(start, Math.min(n, start + batchSize));
        const { lossValue, metrics } = tf.tidy(() => {
          const ids = tf.tensor1d(idx, "int32");
          const xb = tf.gather(data.x, ids);
          const yb = tf.gather(data.y, ids);
          let pred: tf.Tensor | undefined;
          const cost = optimizer.minimize(
            () => {
              const p = model.forward(xb, { training: true });
              pred = tf.keep(p);
              return loss(yb, p);
            },
            true,
            vars,
          );
          const m: Record<string, number> = {};
          for (const [name, fn] of Object.entries(metricFns))
            m[name] = fn(yb, pred as tf.Tensor).dataSync()[0] as number;
          pred?.dispose();
          return { lossValue: (cost as tf.Scalar).dataSync()[0] as number, metrics: m };
        });
        losses.push(lossValue);
        await opts.onStep?.({ step, epoch, loss: lossValue, metrics });
        step++;
      }
    }
  } finally {
    if (!opts.optimizer) optimizer.dispose();
  }
  return { steps: step, losses };
}
