import { Rng } from "@lowrank/core";

/** A seeded split of `n` indices: `test` gets round(n·testFraction) of them, `train` the rest (both sorted). */
export function seededSplit(n: number, testFraction: number, seed: number): { train: Int32Array; test: Int32Array } {
  const perm = new Rng(seed).permutation(n);
  const nTest = Math.round(n * testFraction);
  const test = perm.slice(0, nTest).sort();
  const train = perm.slice(nTest).sort();
  return { train, test };
}

/** The first `k` indices of a seeded shuffle of `idx` (a reproducible subsample). */
export function subsample(idx: Int32Array, k: number, seed: number): Int32Array {
  if (k >= idx.length) return idx;
  const perm = new Rng(seed).permutation(idx.length);
  return Int32Array.from(perm.subarray(0, k), (i) => idx[i] as number).sort();
}
