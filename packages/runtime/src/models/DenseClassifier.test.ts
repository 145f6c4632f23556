import { serializeSafetensors } from "@lowrank/formats";
import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import { seededValues } from "../engine/synthetic.js";
import { adapterLinear } from "./adapterLinear.js";
import { DenseClassifier } from "./DenseClassifier.js";
import { mismatches } from "./testing.js";

// Layer widths 4 -> 5 -> 3 -> 2, stored under names whose sorted order is not the chain order.
const LAYERS = [
  ["zeta_in", 4, 5],
  ["alpha_mid", 5, 3],
  ["head", 3, 2],
] as const;
const arrays = LAYERS.map(([name, fin, fout], i) => ({
  name,
  fin,
  fout,
  k: seededValues(10 + i, fin * fout, 0.8),
  b: seededValues(20 + i, fout, 0.3),
}));

function bytes(): Uint8Array {
  const t: Record<string, { dtype: "F32"; shape: number[]; data: Float32Array }> = {};
  for (const a of arrays) {
    t[`${a.name}.kernel`] = { dtype: "F32", shape: [a.fin, a.fout], data: a.k };
    t[`${a.name}.bias`] = { dtype: "F32", shape: [a.fout], data: a.b };
  }
  return serializeSafetensors(t);
}

/** Plain loops: x [in] through the stack, `act` between layers, optional LoRA delta per layer. */
function reference(
  x: number[],
  act: (v: number) => number,
  lora?: Map<string, { a: Float32Array; b: Float32Array; r: number; s: number }>,
): number[] {
  let h = x;
  arrays.forEach((l, li) => {
    const y = new Array<number>(l.fout).fill(0);
    for (let o = 0; o < l.fout; o++) {
      let s = l.b[o] as number;
      for (let i = 0; i < l.fin; i++) s += (h[i] as number) * (l.k[i * l.fout + o] as number);
      const f = lora?.get(l.name);
      if (f)
        for (let k = 0; k < f.r; k++) {
          let ax = 0;
          for (let i = 0; i < l.fin; i++) ax += (f.a[k * l.fin + i] as number) * (h[i] as number);
          s += f.s * (f.b[o * f.r + k] as number) * ax;
        }
      y[o] = li + 1 < arrays.length ? act(s) : s;
    }
    h = y;
  });
  return h;
}

describe("DenseClassifier", () => {
  const x = [0.5, -1.25, 2, 0.1];

  it("chains layers by shape with ReLU between them when config.json lists none", () => {
    const model = DenseClassifier.fromBytes({ task: "demo" }, bytes());
    expect([...model.linearModules.keys()]).toEqual(["zeta_in", "alpha_mid", "head"]);
    const out = tf.tidy(() => model.forward(tf.tensor2d([x]))).dataSync();
    expect(
      mismatches(
        out,
        reference(x, (v) => Math.max(0, v)),
        1e-5,
        1e-6,
      ),
    ).toEqual([]);
    expect(model.checkInput([3])).toMatch(/expected \[4\] floats/);
    model.dispose();
  });

  it("follows config.json layers and activations, and applies an adapter", () => {
    const model = DenseClassifier.fromBytes(
      {
        layers: [
          { name: "zeta_in", activation: "tanh" },
          { name: "alpha_mid", activation: "tanh" },
          { name: "head", activation: "linear" },
        ],
      },
      bytes(),
    );
    const lora = new Map([["alpha_mid", { a: seededValues(5, 2 * 5, 1), b: seededValues(6, 3 * 2, 1), r: 2, s: 1.5 }]]);
    const weights = {
      modules: new Map([
        [
          "alpha_mid",
          {
            a: tf.tensor2d(lora.get("alpha_mid")?.a as Float32Array, [2, 5]),
            b: tf.tensor2d(lora.get("alpha_mid")?.b as Float32Array, [3, 2]),
            scaling: 1.5,
          },
        ],
      ]),
    };
    const out = tf.tidy(() => model.forward(tf.tensor2d([x]), adapterLinear(model, weights))).dataSync();
    expect(mismatches(out, reference(x, Math.tanh, lora), 1e-5, 1e-6)).toEqual([]);
    for (const m of weights.modules.values()) tf.dispose([m.a, m.b]);
    model.dispose();
  });

  it("frees every tensor it allocated when disposed", () => {
    const before = tf.memory().numTensors;
    const model = DenseClassifier.fromBytes({ task: "demo" }, bytes());
    expect(tf.memory().numTensors - before).toBe(2 * LAYERS.length); // a kernel and a bias per layer
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it("rejects an ambiguous stack with a reason", () => {
    const t = serializeSafetensors({
      a: { dtype: "F32", shape: [2, 2], data: new Float32Array(4) },
      "b.kernel": { dtype: "F32", shape: [2, 2], data: new Float32Array(4) },
      "c.kernel": { dtype: "F32", shape: [2, 2], data: new Float32Array(4) },
    });
    expect(() => DenseClassifier.fromBytes({}, t)).toThrow(/expected one chain of Dense layers/);
  });
});
