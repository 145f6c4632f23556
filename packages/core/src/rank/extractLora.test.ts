import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { describe, expect, it } from "vitest";
import { addRef, matmulRef, maxAbsDiff, Rng } from "../../test/reference.js";
import { injectLora } from "../inject/injectLora.js";
import { extractLora } from "./extractLora.js";
import { addExtractedAdapter, extractLoraFromModels } from "./extractLoraFromModels.js";
import { adapterSingularValues, singularValues } from "./singularValues.js";

describe("extractLora", () => {
  it("recovers a rank-2 update exactly and reports the Eckart–Young error when truncated", () => {
    const before = tf.memory().numTensors;
    const rng = new Rng(3);
    const [n, m] = [9, 7];
    const base = rng.fillNormal(n * m, 1);
    const delta = matmulRef(rng.fillNormal(n * 2, 1), rng.fillNormal(2 * m, 1), n, 2, m);
    const tuned = Float32Array.from(addRef(base, delta));
    const trueDelta = addRef(tuned, base, -1); // the float32 difference
    const bt = tf.tensor2d(base, [n, m]);
    const tt = tf.tensor2d(tuned, [n, m]);
    const e2 = extractLora(bt, tt, 2);
    expect(e2.A.shape).toEqual([n, 2]);
    expect(e2.B.shape).toEqual([2, m]);
    expect(e2.relError).toBeLessThan(1e-5);
    expect(e2.energy).toBeCloseTo(1, 10);
    expect(maxAbsDiff(matmulRef(e2.A.dataSync(), e2.B.dataSync(), n, 2, m), trueDelta)).toBeLessThan(1e-4);
    const s = e2.singularValues;
    const e1 = extractLora(bt, tt, { rank: 1 });
    expect(e1.rank).toBe(1);
    const tail = Math.sqrt(s.slice(1).reduce((a, v) => a + v * v, 0) / s.reduce((a, v) => a + v * v, 0));
    expect(e1.relError).toBeCloseTo(tail, 5);
    // Energy picks the smallest rank with that share of Σσ²; rank above min(n, m) is clamped.
    const byEnergy = extractLora(bt, tt, { energy: 0.999999 });
    expect(byEnergy.rank).toBe(2);
    const big = extractLora(bt, tt, 50);
    expect(big.rank).toBe(7);
    for (const e of [e1, e2, byEnergy, big]) {
      e.A.dispose();
      e.B.dispose();
    }
    bt.dispose();
    tt.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("reads conv kernels as [kh·kw·cin, cout] and refuses mismatched shapes", () => {
    const b = tf.zeros([3, 3, 2, 4]);
    const t = tf.ones([3, 3, 2, 4]);
    const e = extractLora(b, t, 1);
    expect(e.A.shape).toEqual([18, 1]);
    expect(e.B.shape).toEqual([1, 4]);
    expect(e.relError).toBeLessThan(1e-6);
    expect(e.singularValues[0]).toBeCloseTo(Math.sqrt(72), 4);
    expect(() => extractLora(b, tf.zeros([3, 3, 2, 5]), 1)).toThrow(expect.objectContaining({ code: "ShapeMismatch" }));
    expect(() => extractLora(b, t, 0)).toThrow(expect.objectContaining({ code: "InvalidArgument" }));
    tf.dispose([b, t, e.A, e.B]);
  });
});

function mlp(seed: number): tfl.LayersModel {
  const m = tfl.sequential();
  m.add(
    tfl.layers.dense({
      units: 6,
      inputShape: [5],
      activation: "relu",
      name: "fc1",
      kernelInitializer: tfl.initializers.glorotUniform({ seed }),
    }),
  );
  m.add(
    tfl.layers.dense({ units: 3, name: "head", kernelInitializer: tfl.initializers.glorotUniform({ seed: seed + 1 }) }),
  );
  return m;
}

describe("extractLoraFromModels", () => {
  it("extracts per-layer factors that reproduce the tuned model when added to the base", () => {
    const base = mlp(1);
    const tuned = mlp(1);
    const rng = new Rng(9);
    // fc1 changes by a rank-1 update, head by a full-rank one; the bias stays.
    const fc1 = tuned.getLayer("fc1").getWeights();
    const head = tuned.getLayer("head").getWeights();
    const u = tf.tensor2d(rng.fillNormal(5, 1), [5, 1]);
    const v = tf.tensor2d(rng.fillNormal(6, 1), [1, 6]);
    tuned.getLayer("fc1").setWeights([tf.add(fc1[0] as tf.Tensor, tf.matMul(u, v)), fc1[1] as tf.Tensor]);
    tuned
      .getLayer("head")
      .setWeights([tf.add(head[0] as tf.Tensor, tf.randomNormal([6, 3], 0, 1, "float32", 4)), head[1] as tf.Tensor]);
    const ex = extractLoraFromModels(base, tuned, { energy: 0.999999 });
    expect(ex.report.map((r) => [r.module, r.rank])).toEqual([
      ["fc1", 1],
      ["head", 3],
    ]);
    for (const r of ex.report) expect(r.relError).toBeLessThan(1e-5);
    expect(ex.config).toMatchObject({
      r: 3,
      lora_alpha: 3,
      target_modules: ["fc1", "head"],
      rank_pattern: { fc1: 1 },
      alpha_pattern: { fc1: 1 },
    });

    const lora = injectLora(base, { r: 1, target_modules: ["fc1", "head"] });
    addExtractedAdapter(lora, "extracted", ex);
    lora.setActiveAdapters(["extracted"]);
    const x = tf.randomNormal([4, 5], 0, 1, "float32", 2);
    const want = tuned.predict(x) as tf.Tensor;
    const got = lora.forward(x);
    expect(maxAbsDiff(got.dataSync(), want.dataSync())).toBeLessThan(1e-4);
    // The adapter's spectrum as seen through the factors matches the extraction.
    const sv = adapterSingularValues(lora, "extracted");
    expect(sv.get("fc1")?.[0]).toBeCloseTo(ex.layers.get("fc1")?.singularValues[0] as number, 4);
    const dense = singularValues(lora.layers.get("head")?.deltaWeight("extracted") as tf.Tensor);
    expect(sv.get("head")?.[2]).toBeCloseTo(dense[2] as number, 4);

    const atRank1 = extractLoraFromModels(base, tuned, { rank: 1, modules: ["head"] });
    expect(atRank1.report[0]?.relError).toBeGreaterThan(0.05);
    expect(() => extractLoraFromModels(base, tuned, { rank: 1, modules: ["nope"] })).toThrow(
      expect.objectContaining({ code: "NoMatchingModules" }),
    );
    expect(() => extractLoraFromModels(base, base, { rank: 1 })).toThrow(/every weight equal/);
    atRank1.dispose();
    ex.dispose();
    lora.dispose();
    tf.dispose([u, v, x, want, got]); // getWeights() returns the variables themselves
    base.dispose();
    tuned.dispose();
  });
});
