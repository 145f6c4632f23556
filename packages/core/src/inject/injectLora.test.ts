import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { describe, expect, it } from "vitest";
import { addRef, addRowRef, matmulRef, maxAbsDiff, Rng, randomArray } from "../../test/reference.js";
import { isCoreError } from "../errors.js";
import { countParameters, injectLora } from "./injectLora.js";
import type { LinearHost, LinearModule } from "./LinearHost.js";

function mlp(): tfl.LayersModel {
  const m = tfl.sequential();
  m.add(
    tfl.layers.dense({
      units: 6,
      inputShape: [5],
      activation: "relu",
      name: "fc1",
      kernelInitializer: tfl.initializers.glorotUniform({ seed: 1 }),
    }),
  );
  m.add(tfl.layers.dense({ units: 4, name: "fc2", kernelInitializer: tfl.initializers.glorotUniform({ seed: 2 }) }));
  m.add(tfl.layers.dense({ units: 3, name: "head", kernelInitializer: tfl.initializers.glorotUniform({ seed: 3 }) }));
  return m;
}

/** A tiny host: y = x·W1 + b1 -> relu -> ·W2 (named like a transformer). */
class TinyHost implements LinearHost {
  readonly modules = new Map<string, LinearModule>();
  constructor(rng: Rng) {
    const v = (t: tf.Tensor) => {
      const out = tf.variable(t, false);
      t.dispose();
      return out;
    };
    this.modules.set("block.0.up", { weight: v(tf.tensor2d(randomArray(rng, 12), [4, 3])), bias: v(tf.zeros([3])) });
    this.modules.set("lm_head", { weight: v(tf.tensor2d(randomArray(rng, 6), [3, 2])) });
  }
  linearModules() {
    return this.modules;
  }
  outputModuleNames() {
    return ["lm_head"];
  }
  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const lin = (m: LinearModule, h: tf.Tensor) =>
        m.lora ? m.lora.forward(h) : tf.matMul(h as tf.Tensor2D, m.weight as tf.Tensor2D);
      const up = this.modules.get("block.0.up") as LinearModule;
      let h = up.lora
        ? up.lora.forward(x)
        : tf.add(tf.matMul(x as tf.Tensor2D, up.weight as tf.Tensor2D), up.bias as tf.Variable);
      h = tf.relu(h);
      return lin(this.modules.get("lm_head") as LinearModule, h);
    });
  }
  dispose() {
    for (const m of this.modules.values()) {
      m.weight.dispose();
      m.bias?.dispose();
    }
  }
}

describe("injectLora into a tfjs-layers model", () => {
  it("predict goes through the adapter; matches a reference; disabling/dispose restores the base", () => {
    const model = mlp();
    const x = tf.tensor2d(randomArray(new Rng(1), 10), [2, 5]);
    const base = (model.predict(x) as tf.Tensor).dataSync();
    const lora = injectLora(
      model,
      { r: 2, lora_alpha: 4, target_modules: ["fc2"], init_lora_weights: false },
      { seed: 3 },
    );
    expect([...lora.layers.keys()]).toEqual(["fc2"]);
    const y = (model.predict(x) as tf.Tensor).dataSync();
    expect(maxAbsDiff(y, base)).toBeGreaterThan(1e-3);
    // reference: relu(x·W1+b1) -> ·(W2 + 2·A·B) + b2 -> ·W3 + b3
    const w = (n: string) => (model.getLayer(n).getWeights() as tf.Tensor[]).map((t) => t.dataSync());
    const [w1, b1] = w("fc1") as [Float32Array, Float32Array];
    const [w2, b2] = w("fc2") as [Float32Array, Float32Array];
    const [w3, b3] = w("head") as [Float32Array, Float32Array];
    const ad = lora.layers.get("fc2")?.getAdapter("default");
    if (!ad) throw new Error("no adapter");
    const h1 = addRowRef(matmulRef(x.dataSync(), w1, 2, 5, 6), b1, 2, 6).map((v) => Math.max(0, v));
    const w2eff = addRef(w2, matmulRef(ad.A.dataSync(), ad.B.dataSync(), 6, 2, 4), 2);
    const h2 = addRowRef(matmulRef(h1, w2eff, 2, 6, 4), b2, 2, 4);
    const want = addRowRef(matmulRef(h2, w3, 2, 4, 3), b3, 2, 3);
    expect(maxAbsDiff(y, want)).toBeLessThan(1e-4);
    lora.merge(undefined, { safe: true });
    expect(maxAbsDiff((model.predict(x) as tf.Tensor).dataSync(), y)).toBeLessThan(1e-4);
    lora.unmerge();
    lora.disableAdapters();
    expect(maxAbsDiff((model.predict(x) as tf.Tensor).dataSync(), base)).toBeLessThan(1e-6);
    lora.enableAdapters();
    lora.dispose();
    expect(maxAbsDiff((model.predict(x) as tf.Tensor).dataSync(), base)).toBeLessThan(1e-6);
    model.dispose();
  });

  it("model.compile + model.fit train only the adapter; dispose gives the layers their own weights back", async () => {
    const model = mlp();
    const rng = new Rng(5);
    const x = tf.tensor2d(randomArray(rng, 64 * 5), [64, 5]);
    const y = tf.tidy(() => tf.oneHot(tf.argMax(tf.slice(x, [0, 0], [64, 3]), 1), 3));
    const before = model.getWeights().map((w) => Array.from(w.dataSync()));
    const lora = injectLora(model, { r: 2, lora_alpha: 4, target_modules: ["fc1", "fc2"] }, { seed: 1 });
    // Compile after injecting: tfjs-layers collects the trainable weights at compile time.
    model.compile({
      optimizer: tf.train.adam(0.02),
      loss: (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.losses.softmaxCrossEntropy(yTrue, yPred), // head gives logits
    });
    expect(model.trainableWeights).toHaveLength(4); // A and B of fc1 and fc2; every base weight frozen
    const aBefore = Array.from(lora.layers.get("fc1")?.getAdapter("default").B.dataSync() ?? []);
    const history = await model.fit(x, y, { epochs: 8, batchSize: 16, shuffle: false, verbose: 0 });
    const losses = history.history.loss as number[];
    expect(losses.at(-1)).toBeLessThan(losses[0] as number);
    // The base is bit-identical and the adapter moved (B starts at zero).
    expect(model.getWeights().map((w) => Array.from(w.dataSync()))).toEqual(before);
    const aAfter = Array.from(lora.layers.get("fc1")?.getAdapter("default").B.dataSync() ?? []);
    expect(maxAbsDiff(aAfter, aBefore)).toBeGreaterThan(1e-3);
    lora.dispose();
    expect(model.trainableWeights).toHaveLength(6); // kernels and biases of the three layers, trainable again
    tf.dispose([x, y]);
    model.dispose();
  });

  it("all-linear skips the output head; counts parameters; NoMatchingModules", () => {
    const model = mlp();
    const lora = injectLora(model, { r: 2, target_modules: "all-linear", bias: "lora_only" });
    expect([...lora.layers.keys()].sort()).toEqual(["fc1", "fc2"]);
    const c = countParameters(lora);
    const adapters = 5 * 2 + 2 * 6 + (6 * 2 + 2 * 4);
    const biases = 6 + 4;
    expect(c.trainable).toBe(adapters + biases);
    expect(c.total).toBe(model.countParams() + adapters);
    expect(c.fraction).toBeCloseTo(c.trainable / c.total, 12);
    lora.dispose();
    let code = "";
    try {
      injectLora(model, { target_modules: ["nope"] });
    } catch (e) {
      code = isCoreError(e) ? e.code : "other";
      expect(String((e as Error).message)).toContain("fc1");
    }
    expect(code).toBe("NoMatchingModules");
    model.dispose();
  });

  it("Conv2D: the LoRA path equals a conv with the kernel plus reshape(A·B)", () => {
    const m = tfl.sequential();
    m.add(
      tfl.layers.conv2d({
        inputShape: [5, 5, 2],
        filters: 3,
        kernelSize: 3,
        padding: "same",
        name: "conv",
        kernelInitializer: tfl.initializers.glorotUniform({ seed: 4 }),
      }),
    );
    const x = tf.randomNormal([1, 5, 5, 2], 0, 1, "float32", 8);
    const lora = injectLora(m, { r: 2, lora_alpha: 2, target_modules: ["conv"], init_lora_weights: false });
    const y = (m.predict(x) as tf.Tensor).dataSync();
    const layer = lora.layers.get("conv");
    if (!layer) throw new Error("no conv");
    expect(layer.inFeatures).toBe(3 * 3 * 2);
    lora.merge();
    expect(maxAbsDiff((m.predict(x) as tf.Tensor).dataSync(), y)).toBeLessThan(1e-4);
    lora.dispose();
    m.dispose();
    x.dispose();
  });

  it("Embedding: lookup plus A[ids]·B", () => {
    const m = tfl.sequential();
    m.add(
      tfl.layers.embedding({
        inputDim: 7,
        outputDim: 4,
        inputLength: 3,
        name: "emb",
        embeddingsInitializer: tfl.initializers.randomNormal({ seed: 5 }),
      }),
    );
    const ids = tf.tensor2d(
      [
        [1, 2, 6],
        [0, 0, 3],
      ],
      [2, 3],
      "int32",
    );
    const lora = injectLora(m, { r: 2, target_modules: ["emb"], init_lora_weights: false });
    const y = (m.predict(ids) as tf.Tensor).dataSync();
    const layer = lora.layers.get("emb");
    if (!layer) throw new Error("no emb");
    const W = layer.weight.dataSync();
    const d = layer.deltaWeight("default").dataSync();
    [1, 2, 6, 0, 0, 3].forEach((id, i) => {
      for (let j = 0; j < 4; j++)
        expect(y[i * 4 + j]).toBeCloseTo((W[id * 4 + j] as number) + (d[id * 4 + j] as number), 4);
    });
    lora.dispose();
    m.dispose();
  });
});

describe("injectLora into a LinearHost", () => {
  it("targets by dotted suffix, routes forward, leaves nothing behind", () => {
    const before = tf.memory().numTensors;
    const host = new TinyHost(new Rng(2));
    const x = tf.tensor2d(randomArray(new Rng(9), 8), [2, 4]);
    const base = tf.tidy(() => host.forward(x).dataSync());
    const lora = injectLora(host, { r: 1, target_modules: ["up"], init_lora_weights: false, lora_alpha: 1 });
    expect(host.modules.get("block.0.up")?.lora).toBe(lora.layers.get("block.0.up"));
    const y = tf.tidy(() => lora.forward(x).dataSync());
    expect(maxAbsDiff(y, base)).toBeGreaterThan(1e-4);
    expect(countParameters(lora).trainable).toBe(4 + 3);
    lora.dispose();
    expect(host.modules.get("block.0.up")?.lora).toBeUndefined();
    expect(
      maxAbsDiff(
        tf.tidy(() => host.forward(x).dataSync()),
        base,
      ),
    ).toBe(0);
    x.dispose();
    host.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
