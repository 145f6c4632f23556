import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import { LoraBatchPlan, type RowAdapter } from "../engine/LoraBatchPlan.js";
import { seededValues } from "../engine/synthetic.js";
import type { ResidentModule } from "../engine/types.js";
import { mismatches } from "../models/testing.js";
import { StackedLora } from "./StackedLora.js";

function mod(seed: number, rank: number, inF: number, outF: number): ResidentModule {
  return {
    A: tf.tensor2d(seededValues(seed, inF * rank, 0.2), [inF, rank]),
    B: tf.tensor2d(seededValues(seed + 1, rank * outF, 0.2), [rank, outF]),
    rank,
    scaling: 2,
  };
}

describe("StackedLora", () => {
  it("gives each row its own adapter's term (mixed ranks, scales, base rows), as the portable plan computes it", () => {
    const [inF, outF] = [12, 7];
    const a = mod(1, 4, inF, outF);
    const b = mod(3, 2, inF, outF);
    const rows: RowAdapter[] = [
      { modules: new Map([["m", a]]), scale: 1 },
      { modules: null, scale: 1 },
      { modules: new Map([["m", b]]), scale: 0.5 },
      { modules: new Map([["m", a]]), scale: -2 },
      { modules: new Map([["other", b]]), scale: 1 },
    ];
    const x = tf.tensor2d(seededValues(9, rows.length * inF, 1), [rows.length, inF]);
    const before = tf.memory().numTensors;
    const stacked = new StackedLora(rows, "k");
    const got = tf.tidy(() => stacked.delta("m", x)?.dataSync() as Float32Array);
    const again = tf.tidy(() => stacked.delta("m", x)?.dataSync() as Float32Array);
    const want = tf.tidy(() => new LoraBatchPlan(rows).delta("m", x, outF)?.dataSync() as Float32Array);
    expect(mismatches(got, want, 1e-5, 1e-6)).toEqual([]);
    expect(again).toEqual(got);
    // Rows 1 and 4 have no adapter for "m": exactly zero.
    expect([...got.subarray(outF, 2 * outF), ...got.subarray(4 * outF)]).toEqual(new Array(2 * outF).fill(0));
    expect(stacked.delta("absent", x)).toBeNull();
    stacked.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, a.A, a.B, b.A, b.B]);
  });
});
