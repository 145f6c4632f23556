import { RuntimeError } from "../backend/errors.js";

export interface SamplingOptions {
  /** 0 or undefined: greedy (argmax). Otherwise logits are divided by it before the softmax. */
  temperature?: number;
  /** Keep only the k most likely tokens before sampling (0 or undefined: all). */
  topK?: number;
}

/** Index of the largest value (the first on ties). */
export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if ((values[i] as number) > (values[best] as number)) best = i;
  return best;
}

export function validateSampling(options: SamplingOptions): void {
  const { temperature, topK } = options;
  if (temperature !== undefined && !(temperature >= 0 && Number.isFinite(temperature))) {
    throw new RuntimeError("InvalidArgument", `temperature: expected a finite number >= 0, found ${temperature}`);
  }
  if (topK !== undefined && !(Number.isInteger(topK) && topK >= 0)) {
    throw new RuntimeError("InvalidArgument", `topK: expected an integer >= 0, found ${topK}`);
  }
}

/**
 * Picks the next token from one row of logits: argmax when greedy, else a draw from
 * softmax(logits / temperature) restricted to the top k, using `uniform` (a number in [0, 1)).
 */
export function sampleToken(logits: ArrayLike<number>, options: SamplingOptions, uniform: () => number): number {
  const t = options.temperature ?? 0;
  if (t === 0) return argmax(logits);
  const n = logits.length;
  const k = options.topK ?? 0;
  let candidates: number[];
  if (k > 0 && k < n) {
    // The k-th largest value by a numeric typed-array sort; ties at the threshold go to lower indices.
    const sorted = Float64Array.from(logits).sort();
    const threshold = sorted[n - k] as number;
    let above = 0;
    for (let i = 0; i < n; i++) if ((logits[i] as number) > threshold) above++;
    let ties = k - above;
    candidates = [];
    for (let i = 0; i < n; i++) {
      const v = logits[i] as number;
      if (v > threshold || (v === threshold && ties-- > 0)) candidates.push(i);
    }
  } else {
    candidates = Array.from({ length: n }, (_, i) => i);
  }
  let max = Number.NEGATIVE_INFINITY;
  for (const i of candidates) max = Math.max(max, (logits[i] as number) / t);
  if (!Number.isFinite(max)) return argmax(logits); // a temperature so small that logits / t overflows: greedy
  const weights = candidates.map((i) => Math.exp((logits[i] as number) / t - max));
  const total = weights.reduce((s, w) => s + w, 0);
  let u = uniform() * total;
  for (let j = 0; j < candidates.length; j++) {
    u -= weights[j] as number;
    if (u < 0) return candidates[j] as number;
  }
  return candidates[candidates.length - 1] as number;
}
