import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import { addRef, matmulRef, maxAbsDiff, Rng, randomArray } from "../../test/reference.js";
import { parseLoraConfig } from "../config/LoraConfig.js";
import { isCoreError } from "../errors.js";
import { injectLora } from "../inject/injectLora.js";
import type { LinearHost, LinearModule } from "../inject/LinearHost.js";
import { LoraLinear } from "../lora/LoraLinear.js";
import { addWeightedAdapter, addWeightedAdapterToLayer } from "./addWeightedAdapter.js";
import { disjointMerge, magnitudePrune, mergeTaskTensors } from "./mergeUtils.js";

const [N, M] = [6, 5];

function layerWith(specs: Array<{ name: string; r: number; alpha: number }>, seed = 1) {
  const rng = new Rng(seed);
  const W = tf.tensor2d(randomArray(rng, N * M), [N, M]);
  const layer = new LoraLinear({ weight: W });
  W.dispose();
  const ref: Record<string, { A: Float32Array; B: Float32Array; r: number; s: number }> = {};
  for (const { name, r, alpha } of specs) {
    const A = randomArray(rng, N * r);
    const B = randomArray(rng, r * M);
    const At = tf.tensor2d(A, [N, r]);
    const Bt = tf.tensor2d(B, [r, M]);
    layer.addAdapter(name, { A: At, B: Bt, alpha });
    At.dispose();
    Bt.dispose();
    ref[name] = { A, B, r, s: alpha / r };
  }
  return { layer, ref };
}
const deltaRef = (a: { A: Float32Array; B: Float32Array; r: number; s: number }, w = 1) =>
  matmulRef(a.A, a.B, N, a.r, M).map((v) => v * a.s * w);
const delta = (l: LoraLinear, n: string) => tf.tidy(() => l.deltaWeight(n).dataSync());

describe("add_weighted_adapter (PEFT semantics)", () => {
  it("cat with negative weights is exactly Σ wᵢ·ΔWᵢ at rank Σ rᵢ", () => {
    const { layer, ref } = layerWith([
      { name: "a", r: 2, alpha: 4 },
      { name: "b", r: 3, alpha: 3 },
    ]);
    addWeightedAdapterToLayer(layer, ["a", "b"], [0.7, -1.5], "cat", "cat");
    expect(layer.getAdapter("cat").r).toBe(5);
    const want = addRef(deltaRef(ref.a as never, 0.7), deltaRef(ref.b as never, -1.5));
    expect(maxAbsDiff(delta(layer, "cat"), want)).toBeLessThan(1e-4);
    layer.dispose();
  });

  it("linear: one adapter with weight w gives w·ΔW (sign on A only); two give PEFT's cross terms", () => {
    const { layer, ref } = layerWith([
      { name: "a", r: 2, alpha: 8 },
      { name: "b", r: 2, alpha: 2 },
    ]);
    addWeightedAdapterToLayer(layer, ["a"], [-0.5], "neg", "linear");
    expect(maxAbsDiff(delta(layer, "neg"), deltaRef(ref.a as never, -0.5))).toBeLessThan(1e-4);
    addWeightedAdapterToLayer(layer, ["a", "b"], [0.5, 2], "lin", "linear");
    const a = ref.a as { A: Float32Array; B: Float32Array; s: number };
    const b = ref.b as { A: Float32Array; B: Float32Array; s: number };
    const ca = Math.sqrt(0.5 * a.s);
    const cb = Math.sqrt(2 * b.s);
    const A = addRef(
      a.A.map((v) => v * ca),
      b.A,
      cb,
    );
    const B = addRef(
      a.B.map((v) => v * ca),
      b.B,
      cb,
    );
    expect(maxAbsDiff(delta(layer, "lin"), matmulRef(A, B, N, 2, M))).toBeLessThan(1e-4);
    expect(layer.getAdapter("lin").scaling).toBe(1);
    layer.dispose();
  });

  it("svd: exact when the weighted sum fits the target rank, and a best rank-k approximation otherwise", () => {
    const { layer, ref } = layerWith([
      { name: "a", r: 1, alpha: 1 },
      { name: "b", r: 1, alpha: 2 },
    ]);
    const want = addRef(deltaRef(ref.a as never, 2), deltaRef(ref.b as never, -1));
    addWeightedAdapterToLayer(layer, ["a", "b"], [2, -1], "s2", "svd", { svdRank: 2 });
    expect(maxAbsDiff(delta(layer, "s2"), want)).toBeLessThan(1e-4);
    addWeightedAdapterToLayer(layer, ["a", "b"], [2, -1], "s1", "svd", { svdRank: 1 });
    const d1 = delta(layer, "s1");
    // the rank-1 error is smaller than dropping either component outright
    const err = (x: ArrayLike<number>) => Math.hypot(...Array.from(addRef(x, want, -1)));
    expect(err(d1)).toBeLessThan(Math.min(err(deltaRef(ref.a as never, 2)), err(deltaRef(ref.b as never, -1))));
    layer.dispose();
  });

  it("RankMismatch when linear/ties/dare need equal ranks", () => {
    const { layer } = layerWith([
      { name: "a", r: 2, alpha: 2 },
      { name: "b", r: 3, alpha: 3 },
    ]);
    for (const t of ["linear", "ties", "dare_linear"] as const) {
      try {
        addWeightedAdapterToLayer(layer, ["a", "b"], [1, 1], `x${t}`, t, { density: 0.5 });
        throw new Error("no error");
      } catch (e) {
        expect(isCoreError(e, "RankMismatch")).toBe(true);
      }
    }
    layer.dispose();
  });

  it("ties and dare_linear on hand-computed vectors; dare is seeded", () => {
    const t1 = Float64Array.from([1, -2, 3]);
    const t2 = Float64Array.from([2, 1, -1]);
    expect(Array.from(disjointMerge([t1, t2], [1, 1], "total"))).toEqual([1.5, -2, 3]);
    expect(Array.from(magnitudePrune(t1, 0.67))).toEqual([0, -2, 3]);
    expect(Array.from(magnitudePrune(t2, 0.67))).toEqual([2, 1, 0]);
    // ties with density 0.67: pruned [0,-2,3] and [2,1,0]; signs by total: [+, -, +]
    expect(Array.from(mergeTaskTensors("ties", [t1, t2], [1, 1], { density: 0.67, rng: new Rng(0) }))).toEqual([
      2, -2, 3,
    ]);
    const big = Float64Array.from({ length: 2000 }, (_, i) => (i % 7) - 3);
    const d1 = mergeTaskTensors("dare_linear", [big], [1], { density: 0.3, rng: new Rng(5) });
    const d2 = mergeTaskTensors("dare_linear", [big], [1], { density: 0.3, rng: new Rng(5) });
    expect(Array.from(d1)).toEqual(Array.from(d2));
    const kept = d1.filter((v, i) => v !== 0 || big[i] === 0).length;
    expect(kept / big.length).toBeGreaterThan(0.3);
    expect(d1.filter((v) => v !== 0).length / big.filter((v) => v !== 0).length).toBeCloseTo(0.3, 1);
    d1.forEach((v, i) => {
      if (v !== 0) expect(v).toBeCloseTo((big[i] as number) / 0.3, 9);
    });
    const { layer } = layerWith([
      { name: "a", r: 2, alpha: 2 },
      { name: "b", r: 2, alpha: 2 },
    ]);
    addWeightedAdapterToLayer(layer, ["a", "b"], [1, 1], "d1", "dare_linear", { density: 0.5, seed: 3 });
    addWeightedAdapterToLayer(layer, ["a", "b"], [1, 1], "d2", "dare_linear", { density: 0.5, seed: 3 });
    expect(Array.from(delta(layer, "d1"))).toEqual(Array.from(delta(layer, "d2")));
    addWeightedAdapterToLayer(layer, ["a", "b"], [1, 1], "t", "ties", { density: 0.5 });
    expect(layer.getAdapter("t").r).toBe(2);
    layer.dispose();
  });

  it("model level: new config has r = lora_alpha = new rank and the union of targets; no leaks", () => {
    const before = tf.memory().numTensors;
    const mods = new Map<string, LinearModule>();
    const v = (t: tf.Tensor) => {
      const o = tf.variable(t, false);
      t.dispose();
      return o;
    };
    mods.set("h.0.q", { weight: v(tf.randomNormal([4, 4], 0, 1, "float32", 1)) });
    mods.set("h.0.v", { weight: v(tf.randomNormal([4, 4], 0, 1, "float32", 2)) });
    const host: LinearHost = { linearModules: () => mods };
    // two adapters on different modules through LoraModel
    const lora = injectLora(host, { r: 2, target_modules: ["q"], init_lora_weights: false }, { adapterName: "x" });
    lora.addAdapter("y", parseLoraConfig({ r: 3, target_modules: ["v"], init_lora_weights: false }), { seed: 1 });
    addWeightedAdapter(lora, ["x", "y"], [1, 1], "xy", "cat");
    const c = lora.configs.get("xy");
    expect(c?.r).toBe(5);
    expect(c?.lora_alpha).toBe(5);
    expect(c?.target_modules).toEqual(["q", "v"]);
    expect(lora.layers.get("h.0.q")?.getAdapter("xy").r).toBe(2);
    expect(
      maxAbsDiff(
        delta(lora.layers.get("h.0.v") as LoraLinear, "xy"),
        delta(lora.layers.get("h.0.v") as LoraLinear, "y"),
      ),
    ).toBeLessThan(1e-5);
    expect(() => addWeightedAdapter(lora, ["x", "y"], [1, 1], "bad", "linear")).toThrow(
      expect.objectContaining({ code: "RankMismatch" }),
    );
    expect(lora.adapterNames).toEqual(["x", "y", "xy"]);
    lora.dispose();
    for (const m of mods.values()) m.weight.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
