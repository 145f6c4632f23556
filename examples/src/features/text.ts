/// <reference path="../modules.d.ts" />
// Browser-safe: the sentiment recipe's featurizer, shared by training (Node) and the hub's playground.
import tokenize from "sentiment/lib/tokenize.js";

/** 32-bit FNV-1a of a string's UTF-16 code units (feature hashing). */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Tokens: the sentiment package's tokenizer, plus word bigrams (so "not good" differs from "good"). */
export function sentimentTokens(text: string): string[] {
  const words = tokenize(text).filter((w) => w.length > 0);
  const bigrams = words.slice(1).map((w, i) => `${words[i]} ${w}`);
  return [...words, ...bigrams];
}

/**
 * Hashed bag of unigrams and bigrams, `dim` buckets, log(1 + count) weights, each row L2-normalized.
 * Unseen words of a new domain still land in buckets, so an adapter can learn them.
 */
export function hashedFeatures(texts: string[], dim: number): Float32Array {
  const out = new Float32Array(texts.length * dim);
  texts.forEach((t, i) => {
    const row = out.subarray(i * dim, (i + 1) * dim);
    for (const tok of sentimentTokens(t)) {
      const b = fnv1a(tok) % dim;
      row[b] = (row[b] as number) + 1;
    }
    let norm = 0;
    for (let j = 0; j < dim; j++) {
      const v = Math.log1p(row[j] as number);
      row[j] = v;
      norm += v * v;
    }
    if (norm > 0) for (let j = 0; j < dim; j++) row[j] = (row[j] as number) / Math.sqrt(norm);
  });
  return out;
}
