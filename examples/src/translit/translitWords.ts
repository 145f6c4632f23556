import * as tf from "@tensorflow/tfjs-core";
import type { Split } from "../lib/experiment.js";
import { EOS, PAD } from "../lib/Seq2Seq.js";
import { encodePairs, greedyDecode, SRC_LEN, TGT_LEN } from "../recipes/translation.js";

const inverse = (vocab: ReadonlyMap<string, number>) => new Map([...vocab].map(([c, id]) => [id, c]));

/** Characters of ids up to the first EOS (PAD and special ids dropped). */
function text(ids: ArrayLike<number>, chars: ReadonlyMap<number, string>): string {
  let s = "";
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i] as number;
    if (id === EOS) break;
    if (id !== PAD) s += chars.get(id) ?? "";
  }
  return s;
}

/** The (Cyrillic, Latin) words of an encoded split. */
export function wordsOf(split: Split, vocab: ReadonlyMap<string, number>): Array<[string, string]> {
  const chars = inverse(vocab);
  const x = split.x.dataSync();
  const y = split.y.dataSync();
  const n = split.x.shape[0] as number;
  const width = SRC_LEN + TGT_LEN;
  return Array.from({ length: n }, (_, i) => [
    text(x.subarray(i * width, i * width + SRC_LEN), chars),
    text(y.subarray(i * TGT_LEN, (i + 1) * TGT_LEN), chars),
  ]);
}

/** Greedy transliteration of each word by the recipe's own decoder. */
export function decodeWords(
  forward: (x: tf.Tensor) => tf.Tensor,
  words: string[],
  vocab: Map<string, number>,
): string[] {
  const chars = inverse(vocab);
  const split = encodePairs(
    words.map((w) => [w, ""]),
    vocab,
  );
  const ids = greedyDecode(forward, split.x);
  tf.dispose([split.x, split.y]);
  return words.map((_, i) => text(ids.subarray(i * TGT_LEN, (i + 1) * TGT_LEN), chars));
}

export interface WordExample {
  input: string;
  output: string;
  base: string;
}

/**
 * Held-out words the adapter gets right and the base gets wrong (what swapping shows), longest first
 * among those with at least 5 letters; then other words the adapter gets right.
 */
export function pickExamples(
  test: Array<[string, string]>,
  baseOut: string[],
  loraOut: string[],
  n: number,
): WordExample[] {
  const right = test
    .map(([input, output], i) => ({ input, output, base: baseOut[i] as string, lora: loraOut[i] as string }))
    .filter((w) => w.lora === w.output);
  const score = (w: (typeof right)[number]) => (w.base !== w.output ? 100 : 0) + Math.min(w.input.length, 10);
  return right
    .sort((a, b) => score(b) - score(a) || a.input.localeCompare(b.input))
    .slice(0, n)
    .map(({ input, output, base }) => ({ input, output, base }));
}
