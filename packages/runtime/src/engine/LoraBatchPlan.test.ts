import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import { useBackend } from "../../test/useBackend.js";
import { LoraBatchPlan, type RowAdapter } from "./LoraBatchPlan.js";
import { seededValues } from "./synthetic.js";
import type { ResidentModule } from "./types.js";

const IN = 12;
const OUT = 10;

function moduleOf(seed: number, rank: number): { m: ResidentModule; a: Float32Array; b: Float32Array } {
  const a = seededValues(seed, IN * rank, 0.5);
  const b = seededValues(seed + 1000, rank * OUT, 0.5);
  return {
    m: { A: tf.tensor2d(a, [IN, rank]), B: tf.tensor2d(b, [rank, OUT]), rank, scaling: 0.5 + (seed % 3) },
    a,
    b,
  };
}

/** Plain-loop reference: s·(x_i·A)·B, zero without an adapter. */
function reference(x: Float32Array, a: Float32Array, b: Float32Array, rank: number, s: number): Float32Array {
  const u = new Float64Array(rank);
  for (let j = 0; j < rank; j++)
    for (let i = 0; i < IN; i++) u[j] = (u[j] as number) + (x[i] as number) * (a[i * rank + j] as number);
  const y = new Float32Array(OUT);
  for (let o = 0; o < OUT; o++) {
    let acc = 0;
    for (let j = 0; j < rank; j++) acc += s * (u[j] as number) * (b[j * OUT + o] as number);
    y[o] = acc;
  }
  return y;
}

for (const [backend, kernel] of [
  ["cpu", "auto"],
  ["wasm", "auto"],
  ["wasm", "kernel"],
  ["wasm", "portable"],
] as const) {
  describe(`LoraBatchPlan (${kernel}) on ${backend}`, () => {
    useBackend(backend);

    it("gives each row its own adapter's term (mixed ranks, scales, base rows), repeated batches", () => {
      const before = tf.memory().numTensors;
      const adapters = [moduleOf(1, 2), moduleOf(2, 5), moduleOf(3, 8), moduleOf(4, 3)];
      const pick = [0, 1, -1, 2, 3, 1, 0, -1, 2];
      const scales = [1, 0.5, 1, 2, 0, 1, -1, 1, 3];
      const rows: RowAdapter[] = pick.map((p, i) => ({
        modules: p < 0 ? null : new Map([["layer", (adapters[p] as { m: ResidentModule }).m]]),
        scale: scales[i] as number,
      }));
      const xs = seededValues(7, pick.length * IN);
      for (let round = 0; round < 2; round++) {
        const y = tf.tidy(() => {
          const d = new LoraBatchPlan(rows, kernel).delta("layer", tf.tensor2d(xs, [pick.length, IN]), OUT);
          expect(d).not.toBeNull();
          return d as tf.Tensor2D;
        });
        const got = y.dataSync();
        pick.forEach((p, i) => {
          const ad = adapters[p];
          const want = ad
            ? reference(xs.subarray(i * IN, (i + 1) * IN), ad.a, ad.b, ad.m.rank, (scales[i] as number) * ad.m.scaling)
            : new Float32Array(OUT);
          for (let o = 0; o < OUT; o++)
            expect(Math.abs((got[i * OUT + o] as number) - (want[o] as number))).toBeLessThan(1e-5);
        });
        y.dispose();
      }
      for (const { m } of adapters) tf.dispose([m.A, m.B]);
      expect(tf.memory().numTensors).toBe(before);
    });

    it("one adapter with base rows and differing scales: each row its own scale, base rows zero", () => {
      const before = tf.memory().numTensors;
      const ad = moduleOf(5, 6);
      const scales = [1, 0, 2, -0.5, 1];
      const rows: RowAdapter[] = scales.map((scale, i) => ({
        modules: i === 1 ? null : new Map([["layer", ad.m]]),
        scale,
      }));
      const xs = seededValues(11, rows.length * IN);
      const y = tf.tidy(
        () => new LoraBatchPlan(rows, kernel).delta("layer", tf.tensor2d(xs, [rows.length, IN]), OUT) as tf.Tensor2D,
      );
      const got = y.dataSync();
      y.dispose();
      scales.forEach((s, i) => {
        const want =
          i === 1
            ? new Float32Array(OUT)
            : reference(xs.subarray(i * IN, (i + 1) * IN), ad.a, ad.b, ad.m.rank, s * ad.m.scaling);
        for (let o = 0; o < OUT; o++)
          expect(Math.abs((got[i * OUT + o] as number) - (want[o] as number))).toBeLessThan(1e-5);
      });
      tf.dispose([ad.m.A, ad.m.B]);
      expect(tf.memory().numTensors).toBe(before);
    });

    it("runs many adapters on their own rows (positions per example), and keeps an Inf row from leaking", () => {
      const before = tf.memory().numTensors;
      const adapters = Array.from({ length: 12 }, (_, i) => moduleOf(20 + i, 4 + (i % 3) * 6));
      const examples = 30;
      const positions = 3;
      const pick = Array.from({ length: examples }, (_, i) => (i % 7 === 6 ? -1 : (i * 5) % 12));
      const rows: RowAdapter[] = pick.map((p, i) => ({
        modules: p < 0 ? null : new Map([["layer", (adapters[p] as { m: ResidentModule }).m]]),
        scale: 1 + (i % 4) * 0.25,
      }));
      for (const poison of [false, true]) {
        const xs = seededValues(9, examples * positions * IN);
        if (poison) xs[4 * positions * IN + 3] = Number.POSITIVE_INFINITY;
        const y = tf.tidy(() => {
          const d = new LoraBatchPlan(rows, kernel).delta("layer", tf.tensor2d(xs, [examples * positions, IN]), OUT);
          return d as tf.Tensor2D;
        });
        const got = y.dataSync();
        y.dispose();
        for (let e = 0; e < examples; e++) {
          if (poison && e === 4) continue;
          const ad = adapters[pick[e] as number];
          for (let p = 0; p < positions; p++) {
            const row = e * positions + p;
            const want = ad
              ? reference(
                  xs.subarray(row * IN, (row + 1) * IN),
                  ad.a,
                  ad.b,
                  ad.m.rank,
                  (1 + (e % 4) * 0.25) * ad.m.scaling,
                )
              : new Float32Array(OUT);
            for (let o = 0; o < OUT; o++)
              expect(Math.abs((got[row * OUT + o] as number) - (want[o] as number))).toBeLessThan(1e-5);
          }
        }
      }
      for (const { m } of adapters) tf.dispose([m.A, m.B]);
      expect(tf.memory().numTensors).toBe(before);
    });
  });
}
