// A small recipe for the `lowrank train` tests: 3-class labels from a fixed linear rule over a frozen MLP.
import { type Recipe, trainAdapter } from "@lowrank/core";
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";

export const tiny: Recipe = {
  name: "tiny",
  description: "synthetic 3-class problem on a frozen 8-16-3 MLP",
  defaults: { rank: 2, epochs: 2, batchSize: 16, learningRate: 0.02 },
  load: ({ seed }) =>
    tf.tidy(() => {
      const x = tf.randomNormal([64, 8], 0, 1, "float32", seed + 1);
      const y = tf.argMax(tf.matMul(x, tf.randomNormal([8, 3], 0, 1, "float32", 77)), 1);
      return { x, y };
    }),
  // The base is trained here for a few steps, as the example recipes do, so its progress is reported.
  buildBase: async ({ seed, onStep }) => {
    const m = tfl.sequential();
    m.add(
      tfl.layers.dense({
        units: 16,
        inputShape: [8],
        activation: "relu",
        name: "fc1",
        kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }),
      }),
    );
    m.add(tfl.layers.dense({ units: 3, name: "head", kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }) }));
    const x = tf.randomNormal([32, 8], 0, 1, "float32", seed + 100);
    const y = tf.tidy(() => tf.argMax(tf.matMul(x, tf.randomNormal([8, 3], 0, 1, "float32", 78)), 1));
    await trainAdapter({
      model: {
        forward: (input) => m.apply(input) as tf.Tensor,
        trainableVariables: () => m.trainableWeights.map((w) => w.read() as tf.Variable),
      },
      data: { x, y },
      loss: "softmaxCrossEntropy",
      epochs: 1,
      batchSize: 8,
      learningRate: 0.01,
      seed,
      onStep: (s) => onStep?.({ step: s.step, totalSteps: 4, loss: s.loss }),
    });
    tf.dispose([x, y]);
    return m;
  },
  loraConfig: ({ rank }) => ({ r: rank, lora_alpha: 2 * rank, target_modules: ["fc1", "head"] }),
  loss: "softmaxCrossEntropy",
  metrics: ["accuracy"],
};
