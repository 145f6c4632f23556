// Type declarations for the untyped CommonJS data packages the recipes read.
declare module "mnist" {
  interface Digit {
    id: number;
    /** 784 floats in [0, 1] per sample, samples back to back. */
    raw: number[];
    length: number;
  }
  const digits: Digit[];
  export default digits;
}

declare module "sentiment/lib/tokenize.js" {
  /** Lower-cases, strips punctuation and splits on spaces (the sentiment package's tokenizer). */
  export default function tokenize(input: string): string[];
}
