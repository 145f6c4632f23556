import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

/** Languages whose UDHR is published in both Cyrillic and Latin script (`<code>_cyrl`, `<code>_latn`). */
export const TRANSLIT_LANGUAGES = { srp: "Serbian", bos: "Bosnian", uzn: "Uzbek", azj: "Azerbaijani" } as const;
export type TranslitLanguage = keyof typeof TRANSLIT_LANGUAGES;

const require = createRequire(import.meta.url);

/** Text of each heading, paragraph and list item of one declaration (`udhr/declaration/<code>.html`), in order. */
export function udhrParagraphs(code: string): string[] {
  // The package exports only its index; declarations sit beside it in declaration/<code>.html.
  const file = path.join(path.dirname(require.resolve("udhr")), "declaration", `${code}.html`);
  const html = readFileSync(file, "utf8");
  return [...html.matchAll(/<(h[1-6]|p|li)>([\s\S]*?)<\/\1>/g)].map((m) =>
    (m[2] as string)
      .replace(/<[^>]+>/g, "")
      .replace(/\s+/g, " ")
      .trim(),
  );
}

const clean = (w: string) =>
  w
    .toLowerCase()
    .replace(/\u0307/g, "") // "İ".toLowerCase() is "i" + combining dot
    .replace(/^[^\p{L}]+|[^\p{L}ʻ‘’']+$/gu, "");
const CYRILLIC = /\p{Script=Cyrillic}/u;

/**
 * Word pairs (Cyrillic, Latin) from the two scripts of one language's declaration: paragraphs are aligned
 * by position, and words by position within paragraphs that have the same number of words (others skipped).
 * Lower-cased, punctuation stripped, unique by Cyrillic word (first occurrence), in document order.
 */
export function transliterationPairs(lang: TranslitLanguage): Array<[string, string]> {
  const cyr = udhrParagraphs(`${lang}_cyrl`);
  const lat = udhrParagraphs(`${lang}_latn`);
  const seen = new Map<string, string>();
  for (let i = 0; i < Math.min(cyr.length, lat.length); i++) {
    const a = (cyr[i] as string).split(" ");
    const b = (lat[i] as string).split(" ");
    if (a.length !== b.length) continue;
    a.forEach((w, j) => {
      const src = clean(w);
      const tgt = clean(b[j] as string);
      if (!src || !tgt || !CYRILLIC.test(src) || CYRILLIC.test(tgt) || seen.has(src)) return;
      seen.set(src, tgt);
    });
  }
  return [...seen];
}
