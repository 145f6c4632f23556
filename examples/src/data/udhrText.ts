import { udhrParagraphs } from "./udhrPairs.js";

/** The declarations the GPT-2 language demo uses: English for the base, one LoRA adapter per other language. */
export const TEXT_LANGUAGES = {
  eng: { name: "English", iso: "en" },
  fra: { name: "French", iso: "fr" },
  spa: { name: "Spanish", iso: "es" },
  deu_1996: { name: "German", iso: "de" },
  ita: { name: "Italian", iso: "it" },
} as const;
export type TextLanguage = keyof typeof TEXT_LANGUAGES;

/** Every `every`-th paragraph (from the `every - 1`-th) is held out; the rest is training text. */
export const HELD_OUT_EVERY = 8;

/**
 * One declaration as running text, split by paragraph into training and held-out text: paragraphs
 * (headings, paragraphs, list items in document order) end with a newline; paragraph i is held out
 * when i % HELD_OUT_EVERY === HELD_OUT_EVERY - 1, so both parts span the whole declaration.
 */
export function udhrText(code: TextLanguage): { train: string; test: string } {
  const paras = udhrParagraphs(code).filter((p) => p.length > 0);
  const pick = (held: boolean) =>
    paras
      .filter((_, i) => (i % HELD_OUT_EVERY === HELD_OUT_EVERY - 1) === held)
      .map((p) => `${p}\n`)
      .join("");
  return { train: pick(false), test: pick(true) };
}
