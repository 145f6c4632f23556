import type { ModelOutput } from "./playgroundModel.js";

const argmax = (row: ArrayLike<number>) => {
  let best = 0;
  for (let i = 1; i < row.length; i++) if ((row[i] as number) > (row[best] as number)) best = i;
  return best;
};

/**
 * Whether the server's output row (the last position's logits, or a classifier's scores) says what the
 * browser's did: the same top token or class, up to float rounding (two can tie within it), and logits
 * within 1e-3. Returns the sentence the page shows.
 */
export function agreementOf(mine: ModelOutput, result: { shape: number[]; output: number[] }): string {
  const width = result.shape[result.shape.length - 1] ?? result.output.length;
  const row = result.output.slice(result.output.length - width);
  const best = argmax(row);
  const top = row[best] as number;
  if (mine.kind === "classes") {
    const diff = Math.max(...mine.values.map((v, i) => Math.abs((row[i] as number) - v)));
    const myBest = argmax(mine.values);
    const same =
      row.length === mine.values.length && top - (row[myBest] as number) <= 1e-4 * Math.max(1, Math.abs(top));
    const label = (i: number) => mine.classes?.[i]?.label ?? String(i);
    return `${same && diff < 1e-3 ? "Agrees" : "Disagrees"}: server's class is ${label(best)}, the browser's ${label(myBest)}; largest score difference is ${diff.toExponential(2)}.`;
  }
  const diff = Math.max(...mine.top.map((t) => Math.abs((row[t.id] as number) - t.logit)));
  const sameToken = top - (row[mine.top[0]?.id ?? 0] as number) <= 1e-4 * Math.max(1, Math.abs(top));
  return `${sameToken && diff < 1e-3 ? "Agrees" : "Disagrees"}: server's next token is id ${best}, the browser's ${mine.top[0]?.id}; largest logit difference over the top 5 is ${diff.toExponential(2)}.`;
}
