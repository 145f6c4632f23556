// Task-vector merging on flat arrays, with the semantics of PEFT's utils/merge_utils.py.
import { CoreError } from "../errors.js";
import type { Rng } from "../random.js";

export type MajoritySignMethod = "total" | "frequency";

/** Keeps the `floor(density·n)` largest-magnitude entries (ties broken by position), zeroes the rest. */
export function magnitudePrune(t: Float64Array, density: number): Float64Array {
  if (density >= 1) return t.slice();
  if (density < 0) throw new CoreError("InvalidArgument", `density: expected a value in [0, 1], found ${density}`);
  const k = Math.floor(density * t.length);
  const order = Array.from(t.keys()).sort((a, b) => Math.abs(t[b] as number) - Math.abs(t[a] as number) || a - b);
  const out = new Float64Array(t.length);
  for (let i = 0; i < k; i++) {
    const j = order[i] as number;
    out[j] = t[j] as number;
  }
  return out;
}

/** Keeps each entry with probability `density`, rescaled by 1/density (DARE). */
export function randomPrune(t: Float64Array, density: number, rng: Rng): Float64Array {
  if (density >= 1) return t.slice();
  if (density < 0) throw new CoreError("InvalidArgument", `density: expected a value in [0, 1], found ${density}`);
  const out = new Float64Array(t.length);
  for (let i = 0; i < t.length; i++) if (rng.next() < density) out[i] = (t[i] as number) / density;
  return out;
}

export function weightedSum(ts: Float64Array[], w: number[]): Float64Array {
  const out = new Float64Array(ts[0]?.length ?? 0);
  ts.forEach((t, k) => {
    const wk = w[k] as number;
    for (let i = 0; i < t.length; i++) out[i] = (out[i] as number) + wk * (t[i] as number);
  });
  return out;
}

/** TIES sign election and disjoint mean over already-pruned tensors. */
export function disjointMerge(ts: Float64Array[], w: number[], method: MajoritySignMethod): Float64Array {
  const n = ts[0]?.length ?? 0;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let mag = 0;
    for (const t of ts) mag += method === "total" ? (t[i] as number) : Math.sign(t[i] as number);
    const major = mag >= 0 ? 1 : -1;
    let sum = 0;
    let count = 0;
    ts.forEach((t, k) => {
      if (Math.sign(t[i] as number) === major) {
        sum += (t[i] as number) * (w[k] as number);
        count++;
      }
    });
    out[i] = sum / Math.max(count, 1);
  }
  return out;
}

export type TaskMerge = "linear" | "ties" | "dare_linear" | "dare_ties" | "magnitude_prune";

/** PEFT's task_arithmetic / ties / dare_linear / dare_ties / magnitude_prune. */
export function mergeTaskTensors(
  kind: TaskMerge,
  ts: Float64Array[],
  w: number[],
  o: { density?: number; majoritySignMethod?: MajoritySignMethod; rng: Rng },
): Float64Array {
  const needsDensity = kind !== "linear";
  if (needsDensity && o.density === undefined)
    throw new CoreError("InvalidArgument", `combination "${kind}": expected a density in [0, 1], found none`);
  const d = o.density ?? 1;
  const method = o.majoritySignMethod ?? "total";
  switch (kind) {
    case "linear":
      return weightedSum(ts, w);
    case "magnitude_prune":
      return weightedSum(
        ts.map((t) => magnitudePrune(t, d)),
        w,
      );
    case "ties":
      return disjointMerge(
        ts.map((t) => magnitudePrune(t, d)),
        w,
        method,
      );
    case "dare_linear":
      return weightedSum(
        ts.map((t) => randomPrune(t, d, o.rng)),
        w,
      );
    case "dare_ties":
      return disjointMerge(
        ts.map((t) => randomPrune(t, d, o.rng)),
        w,
        method,
      );
  }
}

/** torch.quantile with linear interpolation. */
export function quantile(values: Float64Array, q: number): number {
  const s = Float64Array.from(values).sort();
  if (s.length === 0) return 0;
  const pos = q * (s.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, s.length - 1);
  return (s[lo] as number) + ((s[hi] as number) - (s[lo] as number)) * (pos - lo);
}
