import { Rng } from "@lowrank/core";
import { RuntimeError } from "../backend/errors.js";
import { argmax } from "../models/sampleToken.js";

export interface SamplerOptions {
  /** 0 or undefined: greedy (argmax, first on ties). Otherwise logits are divided by it before the softmax. */
  temperature?: number;
  /** Keep only the k most likely tokens (0 or undefined: all). */
  topK?: number;
  /** Keep the smallest set of most likely tokens whose probability reaches p (1 or undefined: all). */
  topP?: number;
  /** Seed of this sequence's own generator: the same seed draws the same tokens, alone or batched. */
  seed?: number;
}

export function validateSamplerOptions(o: SamplerOptions): void {
  const bad = (what: string, found: unknown) => {
    throw new RuntimeError("InvalidArgument", `${what}, found ${found}`);
  };
  if (o.temperature !== undefined && !(Number.isFinite(o.temperature) && o.temperature >= 0))
    bad("temperature: expected a finite number >= 0", o.temperature);
  if (o.topK !== undefined && !(Number.isInteger(o.topK) && o.topK >= 0))
    bad("top_k: expected an integer >= 0", o.topK);
  if (o.topP !== undefined && !(o.topP > 0 && o.topP <= 1)) bad("top_p: expected a number in (0, 1]", o.topP);
  if (o.seed !== undefined && !Number.isInteger(o.seed)) bad("seed: expected an integer", o.seed);
}

/**
 * Picks each next token of one sequence: argmax when greedy; else temperature, then top-k, then top-p
 * (nucleus) over the survivors sorted by logit, then one draw from the sequence's own seeded generator.
 */
export class Sampler {
  private readonly rng: Rng;

  constructor(private readonly options: SamplerOptions = {}) {
    validateSamplerOptions(options);
    this.rng = new Rng(options.seed ?? 0);
  }

  get greedy(): boolean {
    return !this.options.temperature;
  }

  next(logits: ArrayLike<number>): number {
    const t = this.options.temperature ?? 0;
    if (t === 0) return argmax(logits);
    const n = logits.length;
    const p = this.options.topP ?? 1;
    if (!this.options.topK && p >= 1) return this.drawAll(logits, t);
    // Candidates by logit, descending (index ascending on ties, so the order is deterministic).
    const order = Array.from({ length: n }, (_, i) => i).sort(
      (a, b) => (logits[b] as number) - (logits[a] as number) || a - b,
    );
    const k = this.options.topK ? Math.min(this.options.topK, n) : n;
    const top = order.slice(0, k);
    const max = (logits[top[0] as number] as number) / t;
    if (!Number.isFinite(max)) return top[0] as number; // logits / t overflowed: greedy
    const weights = top.map((i) => Math.exp((logits[i] as number) / t - max));
    let total = weights.reduce((s, w) => s + w, 0);
    let keep = top.length;
    if (p < 1) {
      let acc = 0;
      for (let j = 0; j < top.length; j++) {
        acc += weights[j] as number;
        if (acc >= p * total) {
          keep = j + 1;
          break;
        }
      }
      total = weights.slice(0, keep).reduce((s, w) => s + w, 0);
    }
    let u = this.rng.next() * total;
    for (let j = 0; j < keep; j++) {
      u -= weights[j] as number;
      if (u < 0) return top[j] as number;
    }
    return top[keep - 1] as number;
  }

  /** A draw from softmax(logits / t) over the whole vocabulary, in index order (no sort needed). */
  private drawAll(logits: ArrayLike<number>, t: number): number {
    const n = logits.length;
    let max = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < n; i++) max = Math.max(max, (logits[i] as number) / t);
    if (!Number.isFinite(max)) return argmax(logits);
    const weights = new Float64Array(n);
    let total = 0;
    for (let i = 0; i < n; i++) {
      const w = Math.exp((logits[i] as number) / t - max);
      weights[i] = w;
      total += w;
    }
    let u = this.rng.next() * total;
    for (let i = 0; i < n; i++) {
      u -= weights[i] as number;
      if (u < 0) return i;
    }
    return n - 1;
  }
}
