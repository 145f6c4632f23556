import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { describe, expect, it } from "vitest";
import { injectLora } from "../inject/injectLora.js";
import { type TrainStep, trainAdapter } from "./trainAdapter.js";

function setup(seed: number) {
  const m = tfl.sequential();
  m.add(
    tfl.layers.dense({
      units: 16,
      inputShape: [8],
      activation: "relu",
      name: "fc1",
      kernelInitializer: tfl.initializers.glorotUniform({ seed: 11 }),
    }),
  );
  m.add(tfl.layers.dense({ units: 3, name: "out", kernelInitializer: tfl.initializers.glorotUniform({ seed: 12 }) }));
  const lora = injectLora(m, { r: 4, lora_alpha: 8, lora_dropout: 0.1, target_modules: ["fc1", "out"] }, { seed });
  const x = tf.randomNormal([96, 8], 0, 1, "float32", 3);
  // labels from a fixed linear rule the frozen base does not know
  const y = tf.tidy(() => tf.argMax(tf.matMul(x, tf.randomNormal([8, 3], 0, 1, "float32", 4)), 1));
  return { m, lora, x, y };
}

describe("trainAdapter", () => {
  it("lowers the loss, trains only adapters, is reproducible and does not leak", async () => {
    const runs: number[][] = [];
    for (let run = 0; run < 2; run++) {
      const { m, lora, x, y } = setup(5);
      const kernelBefore = (m.getLayer("fc1").getWeights()[0] as tf.Tensor).dataSync().slice();
      const counts: number[] = [];
      const seen: TrainStep[] = [];
      const res = await trainAdapter({
        model: lora,
        data: { x, y },
        loss: "softmaxCrossEntropy",
        learningRate: 0.02,
        epochs: 6,
        batchSize: 32,
        seed: 9,
        metrics: ["accuracy"],
        onStep: (s) => {
          seen.push(s);
          counts.push(tf.memory().numTensors);
        },
      });
      expect(res.steps).toBe(18);
      expect(seen.map((s) => s.step)).toEqual(Array.from({ length: 18 }, (_, i) => i));
      expect(seen.at(-1)?.epoch).toBe(5);
      // accuracy is the share of a full batch of 32 that is right, and it rises well above chance (1/3)
      const acc = seen.map((s) => s.metrics.accuracy as number);
      expect(acc.filter((a) => !(Number.isInteger(a * 32) && a >= 0 && a <= 1))).toEqual([]);
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      expect(mean(acc.slice(-3))).toBeGreaterThan(0.6);
      expect(mean(acc.slice(-3))).toBeGreaterThan(mean(acc.slice(0, 3)) + 0.25);
      const first = (res.losses[0] as number) + (res.losses[1] as number) + (res.losses[2] as number);
      const last = res.losses.slice(-3).reduce((a, b) => a + b, 0);
      expect(last).toBeLessThan(first * 0.8);
      // after the optimizer made its slots (step 1), the count stays flat
      expect(new Set(counts.slice(1)).size).toBe(1);
      // the frozen base kernel never moved (only the adapters trained)
      expect(Array.from((m.getLayer("fc1").getWeights()[0] as tf.Tensor).dataSync())).toEqual(Array.from(kernelBefore));
      runs.push(res.losses);
      lora.dispose();
      m.dispose();
      x.dispose();
      y.dispose();
    }
    expect(runs[1]).toEqual(runs[0]);
  });

  it("rejects mismatched data", async () => {
    const { m, lora, x } = setup(1);
    const y = tf.zeros([5]);
    await expect(trainAdapter({ model: lora, data: { x, y }, loss: "meanSquaredError" })).rejects.toMatchObject({
      code: "ShapeMismatch",
    });
    lora.dispose();
    m.dispose();
    x.dispose();
    y.dispose();
  });
});
