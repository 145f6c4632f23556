import { injectLora, isRecipe, trainAdapter } from "@lowrank/core";
import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import { disposeDomains } from "../lib/disposeTask.js";
import type { TaskSpec } from "../lib/experiment.js";
import { snapshot } from "../lib/TaskModel.js";
import { mnist, mnistTask } from "./mnist.js";
import { sentiment, sentimentTask } from "./sentiment.js";
import { translation, translationTask, wordAccuracy } from "./translation.js";

type Spec = Omit<TaskSpec, "log" | "onAdapter" | "onBase">;

/**
 * Few LoRA steps on a target domain: loss falls, adapter weights move, base weights stay bit-identical,
 * and (where `improves`) the target test metric beats the base's (the fresh adapter has B = 0, so it is the base).
 */
async function smoke(
  spec: Spec,
  opts: { epochs: number; batchSize: number; learningRate: number },
  { improves = true }: { improves?: boolean } = {},
) {
  const base = spec.build(0);
  const target = spec.targets[0];
  if (!target) throw new Error("no target");
  const before = snapshot(base.weights());
  const lora = injectLora(base.host, spec.loraConfig(4), { seed: 0 });
  const baseMetric = spec.evaluate((x) => lora.forward(x), target.test);
  const adapterBefore = lora.trainableVariables().map((v) => Float32Array.from(v.dataSync() as Float32Array));
  const res = await trainAdapter({ model: lora, data: target.train, loss: spec.loss, seed: 0, ...opts });
  const first = res.losses.slice(0, 2).reduce((a, b) => a + b) / 2;
  const last = res.losses.slice(-2).reduce((a, b) => a + b) / 2;
  expect(last).toBeLessThan(first);
  const changed = lora.trainableVariables().some((v, i) => v.dataSync().some((x, j) => x !== adapterBefore[i]?.[j]));
  expect(changed).toBe(true);
  const metric = spec.evaluate((x) => lora.forward(x), target.test);
  expect(metric).toBeGreaterThanOrEqual(0);
  expect(metric).toBeLessThanOrEqual(1);
  if (improves) expect(metric).toBeGreaterThan(baseMetric);
  lora.dispose();
  const after = snapshot(base.weights());
  expect([...after.keys()]).toEqual([...before.keys()]);
  for (const [k, v] of before)
    expect(Buffer.from((after.get(k) as Float32Array).buffer).equals(Buffer.from(v.buffer))).toBe(true);
  base.dispose();
  disposeDomains([spec.source, ...spec.targets]);
}

describe("recipes (smoke: few steps on small subsets)", () => {
  it("export Recipe objects the CLI accepts", () => {
    for (const r of [mnist, sentiment, translation]) expect(isRecipe(r)).toBe(true);
    expect(mnist.loraConfig({ rank: 4 })).toMatchObject({ r: 4 });
  });

  it("mnist: LoRA on a rotated subset", async () => {
    const before = tf.memory().numTensors;
    await smoke(mnistTask({ baseRows: 64, adapterRows: 256, testRows: 64, hidden: [64, 32] }), {
      epochs: 3,
      batchSize: 64,
      learningRate: 1e-2,
    });
    expect(tf.memory().numTensors).toBe(before);
  });

  it("sentiment: LoRA on a Yelp subset", async () => {
    await smoke(sentimentTask({ limit: 128, features: 512, hidden: 64 }), {
      epochs: 4,
      batchSize: 32,
      learningRate: 1e-2,
    });
  });

  it("translation: LoRA on an Uzbek subset; greedy decoding scores in [0, 1]", async () => {
    const spec = translationTask({ limit: 64 });
    // Three epochs on 64 pairs lower the loss but decode no word right yet (0 before and after), so only
    // the loss and weights are checked here; wordAccuracy itself is checked against an oracle below.
    await smoke(spec, { epochs: 3, batchSize: 32, learningRate: 1e-2 }, { improves: false });
  });
});

describe("wordAccuracy", () => {
  it("is 1 for a model that always emits the right next token and 0 for one that never ends", () => {
    const spec = translationTask({ limit: 8 });
    const d = spec.targets[0];
    if (!d) throw new Error("no target");
    const y = d.test.y;
    // An oracle that reads the answer from the test targets (rows are the same rows in the same order).
    const vocab = 200;
    const oracle = (x: tf.Tensor) => tf.tidy(() => tf.mul(tf.oneHot(tf.slice(y, 0, x.shape[0] as number), vocab), 10));
    expect(wordAccuracy(oracle, d.test)).toBe(1);
    const never = (x: tf.Tensor) => tf.tidy(() => tf.oneHot(tf.fill([x.shape[0] as number, 20], 5, "int32"), vocab));
    expect(wordAccuracy(never, d.test)).toBe(0);
    disposeDomains([spec.source, ...spec.targets]);
  });
});
