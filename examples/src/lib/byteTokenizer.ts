import { byteLevelBpeJson } from "@lowrank/runtime";

/**
 * GPT-2's byte-to-character table (each of the 256 bytes as one printable character: printable
 * Latin-1 bytes stand for themselves, the others are shifted to U+0100 and up), as byte-level BPE
 * tokenizers store their vocabulary.
 */
export function byteToUnicode(): string[] {
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const out: string[] = [];
  let shifted = 0;
  for (let b = 0; b < 256; b++) out.push(String.fromCodePoint(printable(b) ? b : 256 + shifted++));
  return out;
}

/**
 * A Hugging Face `tokenizer.json` for a byte-level model: byte-level BPE with no merges, so every
 * UTF-8 byte is one token and token id = byte value (vocabulary of 256, no special tokens).
 */
export function byteTokenizerJson(): Record<string, unknown> {
  const vocab = Object.fromEntries(byteToUnicode().map((c, b) => [c, b]));
  return byteLevelBpeJson(vocab, "");
}

/** What that tokenizer encodes `text` to: its UTF-8 bytes. */
export function utf8Ids(text: string): number[] {
  return [...new TextEncoder().encode(text)];
}
