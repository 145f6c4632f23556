import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

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

export { hashedFeatures, sentimentTokens } from "../features/text.js";
