/**
 * A character-bigram language model with add-one smoothing over the characters it was fitted on
 * (plus one slot for unseen characters): enough to tell which of a few languages a line of text is in.
 */
export class CharBigram {
  private readonly pairs = new Map<string, number>();
  private readonly firsts = new Map<string, number>();

  constructor(text: string) {
    const chars = [...text.toLowerCase()];
    for (let i = 0; i + 1 < chars.length; i++) {
      const a = chars[i] as string;
      const pair = a + (chars[i + 1] as string);
      this.pairs.set(pair, (this.pairs.get(pair) ?? 0) + 1);
      this.firsts.set(a, (this.firsts.get(a) ?? 0) + 1);
    }
  }

  /** Mean natural log-probability of each character given the previous one. */
  score(text: string): number {
    const chars = [...text.toLowerCase()];
    const alphabet = this.firsts.size + 1;
    let total = 0;
    for (let i = 0; i + 1 < chars.length; i++) {
      const a = chars[i] as string;
      const pair = a + (chars[i + 1] as string);
      total += Math.log(((this.pairs.get(pair) ?? 0) + 1) / ((this.firsts.get(a) ?? 0) + alphabet));
    }
    return chars.length > 1 ? total / (chars.length - 1) : 0;
  }
}

/** The language whose model scores `text` highest, with every language's score. */
export function identifyLanguage<K extends string>(
  text: string,
  models: Record<K, CharBigram>,
): { best: K; scores: Record<K, number> } {
  const scores = Object.fromEntries(
    (Object.entries(models) as [K, CharBigram][]).map(([k, m]) => [k, m.score(text)]),
  ) as Record<K, number>;
  const best = (Object.keys(scores) as K[]).reduce((a, b) => (scores[b] > scores[a] ? b : a));
  return { best, scores };
}
