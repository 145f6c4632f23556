import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import { maxAbsDiff, Rng, randomArray } from "../../test/reference.js";
import { gatherRows } from "./gatherRows.js";

describe(`gatherRows on ${tf.getBackend()}`, () => {
  it("forward is table[ids]; d/dtable scatter-adds dy over repeated ids (randomized shapes)", () => {
    const rng = new Rng(7);
    for (let trial = 0; trial < 5; trial++) {
      const rows = 2 + (rng.int() % 9);
      const cols = 1 + (rng.int() % 5);
      const n = 1 + (rng.int() % 12);
      const ids = Array.from({ length: n }, () => rng.int() % rows);
      const T = randomArray(rng, rows * cols);
      const G = randomArray(rng, n * cols);
      const table = tf.tensor2d(T, [rows, cols]);
      const idsT = tf.tensor1d(ids, "int32");
      const g = tf.tensor2d(G, [n, cols]);
      const y = gatherRows(table, idsT);
      const wantY = new Float64Array(n * cols);
      const wantD = new Float64Array(rows * cols);
      ids.forEach((id, i) => {
        for (let j = 0; j < cols; j++) {
          wantY[i * cols + j] = T[id * cols + j] as number;
          wantD[id * cols + j] = (wantD[id * cols + j] as number) + (G[i * cols + j] as number);
        }
      });
      expect(maxAbsDiff(y.dataSync(), wantY)).toBe(0);
      const d = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(gatherRows(t as tf.Tensor2D, idsT), g)))(table);
      expect(d.shape).toEqual([rows, cols]);
      expect(maxAbsDiff(d.dataSync(), wantD)).toBeLessThan(1e-5);
      tf.dispose([table, idsT, g, y, d]);
    }
  });

  it("saves nothing outside a gradient tape (inference leaks no tensors)", () => {
    const before = tf.memory().numTensors;
    const table = tf.tensor2d([1, 2, 3, 4], [2, 2]);
    const ids = tf.tensor1d([1, 1, 0], "int32");
    tf.tidy(() => gatherRows(table, ids).dataSync());
    tf.dispose([table, ids]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
