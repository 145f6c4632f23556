import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** Absolute path under the repository's tooling/golden (NumPy reference values and synthetic adapters). */
export function goldenPath(...parts: string[]): string {
  return [fileURLToPath(new URL("../../../../tooling/golden", import.meta.url)), ...parts].join("/");
}

export function readGolden<T = Record<string, unknown>>(name: string): T {
  return JSON.parse(readFileSync(goldenPath(`${name}.json`), "utf8")) as T;
}

/** Indices where |actual - expected| > rtol·|expected| + atol, with the values, for a readable failure. */
export function mismatches(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol = 1e-4, atol = 1e-6): string[] {
  const out: string[] = [];
  if (actual.length !== expected.length) return [`length: expected ${expected.length}, found ${actual.length}`];
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i] as number;
    const e = expected[i] as number;
    if (!(Math.abs(a - e) <= rtol * Math.abs(e) + atol)) out.push(`[${i}] expected ${e}, found ${a}`);
  }
  return out.slice(0, 10);
}

export interface LogitsSummary {
  columns: number[];
  values: number[][];
  argmax: number[];
  max: number[];
  sum: number[];
  sumsq: number[];
}

/** The same statistics make_golden.py keeps of a [rows, vocab] logits matrix. */
export function summarize(data: Float32Array, vocab: number, columns: number[]): LogitsSummary {
  const rows = data.length / vocab;
  const s: LogitsSummary = { columns, values: [], argmax: [], max: [], sum: [], sumsq: [] };
  for (let r = 0; r < rows; r++) {
    const row = data.subarray(r * vocab, (r + 1) * vocab);
    let best = 0;
    let sum = 0;
    let sumsq = 0;
    for (let v = 0; v < vocab; v++) {
      const x = row[v] as number;
      if (x > (row[best] as number)) best = v;
      sum += x;
      sumsq += x * x;
    }
    s.values.push(columns.map((c) => row[c] as number));
    s.argmax.push(best);
    s.max.push(row[best] as number);
    s.sum.push(sum);
    s.sumsq.push(sumsq);
  }
  return s;
}
