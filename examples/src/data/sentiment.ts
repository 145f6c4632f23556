import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import tokenize from "sentiment/lib/tokenize.js";

export const SENTIMENT_DOMAINS = ["amazon", "yelp", "imdb"] as const;
export type SentimentDomain = (typeof SENTIMENT_DOMAINS)[number];

export interface LabelledText {
  text: string;
  label: 0 | 1;
}

const require = createRequire(import.meta.url);

/** The labelled sentences of sentiment@5.0.2's test fixture for one domain (null entries skipped). */
export function loadSentiment(domain: SentimentDomain): LabelledText[] {
  const file = require.resolve(`sentiment/test/fixtures/${domain}.json`);
  const rows = JSON.parse(readFileSync(file, "utf8")) as Array<{ text: string; class: number } | null>;
  return rows
    .filter((r): r is { text: string; class: number } => r !== null && typeof r.text === "string")
    .map((r) => ({ text: r.text, label: r.class === 1 ? 1 : 0 }));
}

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
