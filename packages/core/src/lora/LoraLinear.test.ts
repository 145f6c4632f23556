import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { describe, expect, it } from "vitest";
import { addRef, addRowRef, matmulRef, maxAbsDiff, Rng, randomArray } from "../../test/reference.js";
import { isCoreError } from "../errors.js";
import { injectLora } from "../inject/injectLora.js";
import { trainAdapter } from "../train/trainAdapter.js";
import { BASE_ADAPTER, LoraLinear } from "./LoraLinear.js";

function expectCode(fn: () => unknown, code: string): void {
  try {
    fn();
  } catch (e) {
    expect(isCoreError(e) ? e.code : e).toBe(code);
    return;
  }
  throw new Error(`expected CoreError ${code}`);
}

/** Reference y = x·W + b + Σ s·x·A·B on plain arrays. */
function refForward(
  x: Float32Array,
  W: Float32Array,
  b: Float32Array,
  adapters: Array<{ A: Float32Array; B: Float32Array; r: number; s: number }>,
  n: number,
  k: number,
  m: number,
) {
  let y = addRowRef(matmulRef(x, W, n, k, m), b, n, m);
  for (const a of adapters) y = addRef(y, matmulRef(matmulRef(x, a.A, n, k, a.r), a.B, n, a.r, m), a.s);
  return y;
}

describe("LoraLinear", () => {
  it("hand-computed 1x2 -> 2 case", () => {
    const layer = new LoraLinear({
      weight: tf.tensor2d([
        [1, 0],
        [0, 1],
      ]),
      bias: tf.tensor1d([1, 2]),
    });
    layer.addAdapter("a", { A: tf.tensor2d([[1], [1]]), B: tf.tensor2d([[2, 3]]), alpha: 2 }); // r=1, scale 2
    layer.setActiveAdapters(["a"]);
    const y = layer.forward(tf.tensor2d([[1, 2]]));
    // x·W + b = [2, 4]; x·A = 3; ·B = [6, 9]; ·2 = [12, 18]
    expect(Array.from(y.dataSync())).toEqual([14, 22]);
    layer.dispose();
  });

  it("matches the TypedArray reference for random shapes, ranks and several adapters", () => {
    const rng = new Rng(7);
    for (let trial = 0; trial < 6; trial++) {
      const n = 1 + Math.floor(rng.next() * 5);
      const k = 2 + Math.floor(rng.next() * 9);
      const m = 2 + Math.floor(rng.next() * 9);
      const W = randomArray(rng, k * m);
      const b = randomArray(rng, m);
      const x = randomArray(rng, n * k);
      const layer = new LoraLinear({ weight: tf.tensor2d(W, [k, m]), bias: tf.tensor1d(b) });
      const ref: Array<{ A: Float32Array; B: Float32Array; r: number; s: number }> = [];
      for (const name of ["p", "q"]) {
        const r = 1 + Math.floor(rng.next() * 4);
        const A = randomArray(rng, k * r);
        const B = randomArray(rng, r * m);
        const alpha = 1 + Math.floor(rng.next() * 8);
        layer.addAdapter(name, {
          A: tf.tensor2d(A, [k, r]),
          B: tf.tensor2d(B, [r, m]),
          alpha,
          useRslora: trial % 2 === 1,
        });
        ref.push({ A, B, r, s: trial % 2 === 1 ? alpha / Math.sqrt(r) : alpha / r });
      }
      const xt = tf.tensor2d(x, [n, k]);
      layer.setActiveAdapters(["p", "q"]);
      expect(maxAbsDiff(layer.forward(xt).dataSync(), refForward(x, W, b, ref, n, k, m))).toBeLessThan(1e-4);
      layer.setActiveAdapters(["q"]);
      expect(maxAbsDiff(layer.forward(xt).dataSync(), refForward(x, W, b, ref.slice(1), n, k, m))).toBeLessThan(1e-4);
      layer.disableAdapters();
      expect(maxAbsDiff(layer.forward(xt).dataSync(), refForward(x, W, b, [], n, k, m))).toBeLessThan(1e-4);
      layer.enableAdapters();
      // merged and unmerged forward agree; unmerge restores W
      layer.setActiveAdapters(["p", "q"]);
      const unmerged = layer.forward(xt).dataSync();
      layer.merge();
      expect(layer.mergedAdapters).toEqual(["p", "q"]);
      expect(maxAbsDiff(layer.forward(xt).dataSync(), unmerged)).toBeLessThan(1e-4);
      layer.unmerge();
      expect(maxAbsDiff(layer.weight.dataSync(), W)).toBeLessThan(1e-5);
      xt.dispose();
      layer.dispose();
    }
  });

  it("merge stack is LIFO; unmerge with nothing merged is NotMerged", () => {
    const W = new Float32Array([1, 2, 3, 4, 5, 6]);
    const layer = new LoraLinear({ weight: tf.tensor2d(W, [3, 2]) });
    layer.addAdapter("a", { r: 2, alpha: 2, init: false, seed: 1 });
    layer.addAdapter("b", { r: 1, alpha: 4, init: false, seed: 2 });
    const dA = layer.deltaWeight("a");
    layer.merge(["a"]);
    layer.merge(["b"]);
    expect(layer.unmerge()).toEqual(["b"]);
    expect(maxAbsDiff(layer.weight.dataSync(), addRef(W, dA.dataSync()))).toBeLessThan(1e-5);
    expect(layer.unmerge()).toEqual(["a"]);
    expect(maxAbsDiff(layer.weight.dataSync(), W)).toBeLessThan(1e-5);
    expectCode(() => layer.unmerge(), "NotMerged");
    dA.dispose();
    layer.dispose();
  });

  it("safe merge refuses NaN/Inf and changes nothing", () => {
    const layer = new LoraLinear({
      weight: tf.tensor2d([
        [1, 2],
        [3, 4],
      ]),
    });
    layer.addAdapter("bad", { A: tf.tensor2d([[Number.NaN], [0]]), B: tf.tensor2d([[1, 1]]), alpha: 1 });
    layer.setActiveAdapters(["bad"]);
    expectCode(() => layer.merge(["bad"], { safe: true }), "NonFinite");
    expect(Array.from(layer.weight.dataSync())).toEqual([1, 2, 3, 4]);
    expect(layer.mergedAdapters).toEqual([]);
    layer.dispose();
  });

  it("mixed batch applies each row's adapter; __base__ means none", () => {
    const rng = new Rng(3);
    const [n, k, m, r] = [5, 4, 3, 2];
    const W = randomArray(rng, k * m);
    const x = randomArray(rng, n * k);
    const layer = new LoraLinear({ weight: tf.tensor2d(W, [k, m]) });
    const ads: Record<string, { A: Float32Array; B: Float32Array; r: number; s: number }> = {};
    for (const name of ["u", "v"]) {
      const A = randomArray(rng, k * r);
      const B = randomArray(rng, r * m);
      layer.addAdapter(name, { A: tf.tensor2d(A, [k, r]), B: tf.tensor2d(B, [r, m]), alpha: 4 });
      ads[name] = { A, B, r, s: 2 };
    }
    const rows = ["u", BASE_ADAPTER, "v", "u", BASE_ADAPTER];
    const y = layer.forwardMixed(tf.tensor2d(x, [n, k]), rows).dataSync();
    rows.forEach((name, i) => {
      const xi = x.slice(i * k, (i + 1) * k);
      const a = ads[name];
      const want = refForward(xi, W, new Float32Array(m), a ? [a] : [], 1, k, m);
      expect(maxAbsDiff(y.slice(i * m, (i + 1) * m), want)).toBeLessThan(1e-4);
    });
    expectCode(() => layer.forwardMixed(tf.tensor2d(x, [n, k]), ["u", "u", "w", "u", "u"]), "UnknownAdapter");
    layer.dispose();
  });

  it("errors: duplicate, unknown, shape, delete merged", () => {
    const layer = new LoraLinear({ weight: tf.zeros([3, 2]) });
    layer.addAdapter("a", { r: 1, alpha: 1 });
    expectCode(() => layer.addAdapter("a", { r: 1, alpha: 1 }), "DuplicateAdapter");
    expectCode(() => layer.setActiveAdapters(["zz"]), "UnknownAdapter");
    expectCode(() => layer.addAdapter("s", { A: tf.zeros([2, 1]), B: tf.zeros([1, 2]), alpha: 1 }), "ShapeMismatch");
    expectCode(
      () => layer.addAdapter("t", { A: tf.zeros([3, 2]), B: tf.zeros([2, 2]), alpha: 1, r: 4 }),
      "RankMismatch",
    );
    layer.setActiveAdapters(["a"]);
    layer.merge();
    expectCode(() => layer.deleteAdapter("a"), "InvalidArgument");
    layer.unmerge();
    layer.deleteAdapter("a");
    expect(layer.adapterNames).toEqual([]);
    expect(layer.activeAdapters).toEqual([]);
    layer.dispose();
  });

  it("init: true gives zero B and A within ±1/sqrt(in); gaussian std ~ 1/r; pissa keeps the output", () => {
    const layer = new LoraLinear({ weight: tf.randomNormal([64, 16], 0, 1, "float32", 5) });
    const a = layer.addAdapter("k", { r: 8, alpha: 8, seed: 1 });
    expect(Math.max(...Array.from(a.B.dataSync()).map(Math.abs))).toBe(0);
    const av = Array.from(a.A.dataSync());
    expect(Math.max(...av.map(Math.abs))).toBeLessThanOrEqual(1 / 8);
    expect(Math.max(...av.map(Math.abs))).toBeGreaterThan(0.1);
    const g = layer.addAdapter("g", { r: 4, alpha: 4, init: "gaussian", seed: 2 });
    const gv = Array.from(g.A.dataSync());
    const std = Math.sqrt(gv.reduce((s, v) => s + v * v, 0) / gv.length);
    expect(std).toBeGreaterThan(0.2);
    expect(std).toBeLessThan(0.3);
    const x = tf.randomNormal([3, 64], 0, 1, "float32", 9);
    const before = layer.forward(x).dataSync();
    const W0 = layer.weight.dataSync().slice();
    layer.addAdapter("p", { r: 4, alpha: 8, init: "pissa" });
    layer.setActiveAdapters(["p"]);
    expect(maxAbsDiff(layer.forward(x).dataSync(), before)).toBeLessThan(1e-3);
    // the residual really lost the top singular directions
    expect(maxAbsDiff(layer.weight.dataSync(), W0)).toBeGreaterThan(0.1);
    x.dispose();
    layer.dispose();
  });

  it("does not leak tensors across forward, merge, unmerge, add/delete, dispose", () => {
    const before = tf.memory().numTensors;
    {
      const w = tf.randomNormal([8, 6], 0, 1, "float32", 1);
      const bias = tf.zeros([6]);
      using layer = new LoraLinear({ weight: w, bias });
      w.dispose();
      bias.dispose();
      layer.addAdapter("a", { r: 2, alpha: 4, dropout: 0.5, init: false });
      layer.addAdapter("b", { r: 3, alpha: 4, init: false });
      layer.setActiveAdapters(["a", "b"]);
      const x = tf.ones([4, 8]);
      const mid = tf.memory().numTensors;
      for (let i = 0; i < 3; i++) {
        layer.forward(x, { training: true }).dispose();
        layer.forwardMixed(x as tf.Tensor2D, ["a", "b", BASE_ADAPTER, "a"]).dispose();
        layer.merge(["a"], { safe: true });
        layer.forward(x).dispose();
        layer.unmerge();
      }
      expect(tf.memory().numTensors).toBe(mid);
      layer.deleteAdapter("b");
      expect(tf.memory().numTensors).toBe(mid - 2);
      x.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe("LoraLinear embedding gradients", () => {
  /** Reference dA, dB of L = Σ G ⊙ (W[ids] + s·A[ids]·B) on plain arrays (W frozen). */
  function refEmbeddingGrads(
    ids: number[],
    A: Float32Array,
    B: Float32Array,
    G: Float32Array,
    vocab: number,
    r: number,
    m: number,
    s: number,
  ) {
    const dA = new Float64Array(vocab * r);
    const dB = new Float64Array(r * m);
    ids.forEach((id, i) => {
      for (let k = 0; k < r; k++)
        for (let j = 0; j < m; j++) {
          const g = (G[i * m + j] as number) * s;
          dA[id * r + k] = (dA[id * r + k] as number) + g * (B[k * m + j] as number);
          dB[k * m + j] = (dB[k * m + j] as number) + g * (A[id * r + k] as number);
        }
    });
    return { dA, dB };
  }

  it(`dA, dB match a TypedArray reference (repeated ids) on the ${tf.getBackend()} backend`, () => {
    const rng = new Rng(31);
    const vocab = 6;
    const m = 4;
    const r = 2;
    const layer = new LoraLinear({ weight: tf.tensor2d(randomArray(rng, vocab * m), [vocab, m]), embedding: true });
    const A = randomArray(rng, vocab * r);
    const B = randomArray(rng, r * m);
    layer.addAdapter("a", { A: tf.tensor2d(A, [vocab, r]), B: tf.tensor2d(B, [r, m]), alpha: 3 });
    layer.setActiveAdapters(["a"]);
    const idList = [1, 4, 1, 0, 5, 1];
    const ids = tf.tensor2d(idList, [2, 3], "int32");
    const G = randomArray(rng, idList.length * m);
    const g = tf.tensor3d(G, [2, 3, m]);
    const a = layer.getAdapter("a");
    const { grads, value } = tf.variableGrads(() => tf.sum(tf.mul(layer.forwardEmbedding(ids), g)), [a.A, a.B]);
    const ref = refEmbeddingGrads(idList, A, B, G, vocab, r, m, a.scaling);
    expect(grads[a.A.name]?.shape).toEqual([vocab, r]);
    expect(maxAbsDiff(grads[a.A.name]?.dataSync() ?? [], ref.dA)).toBeLessThan(1e-4);
    expect(maxAbsDiff(grads[a.B.name]?.dataSync() ?? [], ref.dB)).toBeLessThan(1e-4);
    expect(Object.keys(grads)).toHaveLength(2);
    for (const t of Object.values(grads)) t.dispose();
    value.dispose();
    ids.dispose();
    g.dispose();
    layer.dispose();
  });

  it("training steps through an embedding adapter keep numTensors stable", () => {
    const rng = new Rng(32);
    const vocab = 9;
    const m = 3;
    const layer = new LoraLinear({ weight: tf.tensor2d(randomArray(rng, vocab * m), [vocab, m]), embedding: true });
    layer.addAdapter("a", { r: 2, alpha: 2, seed: 4 });
    layer.setActiveAdapters(["a"]);
    const ids = tf.tensor1d([0, 8, 3, 3], "int32");
    const target = tf.tensor2d(randomArray(rng, 4 * m), [4, m]);
    const opt = tf.train.sgd(0.1);
    const loss = () => tf.losses.meanSquaredError(target, layer.forwardEmbedding(ids)) as tf.Scalar;
    const first = tf.tidy(() => loss().dataSync()[0] as number);
    const counts: number[] = [];
    for (let i = 0; i < 5; i++) {
      opt.minimize(loss, false, layer.adapterVariables());
      counts.push(tf.memory().numTensors);
    }
    const last = tf.tidy(() => loss().dataSync()[0] as number);
    expect(last).toBeLessThan(first);
    expect(new Set(counts.slice(1)).size).toBe(1);
    opt.dispose();
    ids.dispose();
    target.dispose();
    layer.dispose();
  });
});

describe("embedding LoRA through injectLora + trainAdapter", () => {
  it(`trains on ${tf.getBackend()}: loss falls, the base table is untouched, numTensors returns`, async () => {
    const before = tf.memory().numTensors;
    const m = tfl.sequential();
    m.add(
      tfl.layers.embedding({
        inputDim: 11,
        outputDim: 4,
        inputLength: 3,
        name: "emb",
        embeddingsInitializer: tfl.initializers.randomNormal({ seed: 8 }),
      }),
    );
    m.add(tfl.layers.flatten());
    m.add(tfl.layers.dense({ units: 2, name: "head", kernelInitializer: tfl.initializers.glorotUniform({ seed: 9 }) }));
    const lora = injectLora(m, { r: 2, lora_alpha: 4, target_modules: ["emb"] });
    const emb = lora.layers.get("emb");
    if (!emb) throw new Error("no emb");
    const W0 = emb.weight.dataSync().slice();
    const rng = new Rng(12);
    const ids = Array.from({ length: 48 }, () => rng.int() % 11);
    const x = tf.tensor2d(ids, [16, 3], "int32");
    const y = tf.tensor2d(randomArray(rng, 32), [16, 2]);
    const counts: number[] = [];
    const res = await trainAdapter({
      model: lora,
      data: { x, y },
      loss: "meanSquaredError",
      learningRate: 0.05,
      epochs: 6,
      batchSize: 8,
      onStep: () => {
        counts.push(tf.memory().numTensors);
      },
    });
    expect(res.steps).toBe(12);
    expect(res.losses.at(-1) as number).toBeLessThan(res.losses[0] as number);
    expect(new Set(counts.slice(2)).size).toBe(1);
    expect(maxAbsDiff(emb.weight.dataSync(), W0)).toBe(0);
    expect(maxAbsDiff(emb.getAdapter("default").A.dataSync(), new Float32Array(22))).toBeGreaterThan(0);
    lora.dispose();
    m.dispose();
    tf.dispose([x, y]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
