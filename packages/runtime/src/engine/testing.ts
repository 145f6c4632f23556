// Test helpers shared by engine, server and bench suites: an independent forward of the synthetic MLP
// written with plain TypedArray loops (no tfjs), used as the reference the engine is checked against.

import type { SyntheticAdapterSpec, syntheticAdapterArrays } from "./synthetic.js";
import type { ServableBase } from "./types.js";

export interface MlpArrays {
  layers: Array<{
    name: string;
    w: Float32Array;
    bias: Float32Array;
    layout: "in_out" | "out_in";
    inF: number;
    outF: number;
  }>;
}

/** Copies a synthetic MLP's weights out of tfjs once. */
export function mlpArrays(base: ServableBase): MlpArrays {
  return {
    layers: [...base.linearModules].map(([name, m]) => ({
      name,
      w: m.weight.dataSync() as Float32Array,
      bias: (m.bias?.dataSync() as Float32Array) ?? new Float32Array(m.outFeatures),
      layout: m.layout,
      inF: m.inFeatures,
      outF: m.outFeatures,
    })),
  };
}

/** Reference forward of one example through the MLP with an optional adapter (PEFT math, float64 sums). */
export function referenceMlp(
  mlp: MlpArrays,
  x: ArrayLike<number>,
  adapter?: ReturnType<typeof syntheticAdapterArrays>,
  scale = 1,
): Float64Array {
  let h = Float64Array.from(x);
  mlp.layers.forEach((L, li) => {
    const y = new Float64Array(L.outF);
    for (let o = 0; o < L.outF; o++) {
      let s = L.bias[o] as number;
      for (let i = 0; i < L.inF; i++)
        s +=
          (h[i] as number) * (L.layout === "in_out" ? (L.w[i * L.outF + o] as number) : (L.w[o * L.inF + i] as number));
      y[o] = s;
    }
    const m = adapter?.get(L.name);
    if (m) {
      const u = new Float64Array(m.rank);
      for (let r = 0; r < m.rank; r++)
        for (let i = 0; i < L.inF; i++) u[r] = (u[r] as number) + (h[i] as number) * (m.a[r * L.inF + i] as number);
      for (let o = 0; o < L.outF; o++) {
        let s = 0;
        for (let r = 0; r < m.rank; r++) s += (u[r] as number) * (m.b[o * m.rank + r] as number);
        y[o] = (y[o] as number) + scale * m.scaling * s;
      }
    }
    h = li + 1 < mlp.layers.length ? y.map(Math.tanh) : y;
  });
  return h;
}

export type { SyntheticAdapterSpec };
