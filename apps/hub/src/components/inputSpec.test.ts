import { describe, expect, it } from "vitest";
import { playgroundFor } from "./inputSpec.js";
import type { ModelOutput } from "./playgroundModel.js";
import { agreementOf } from "./serverAgreement.js";

describe("the playground a base opens", () => {
  const generic = (config: Record<string, unknown> | undefined) => {
    const c = playgroundFor(config);
    if (c.page !== "generic") throw new Error(`expected the generic playground, got ${c.page}`);
    return c.input;
  };

  it("reads image and hashed-text blocks, and falls back to the prompt for anything else or malformed", () => {
    const digits = Array.from({ length: 10 }, (_, i) => String(i));
    expect(generic({ input: { kind: "image", width: 28, height: 28, classes: digits } })).toEqual({
      kind: "image",
      width: 28,
      height: 28,
      classes: digits,
    });
    expect(generic({ input: { kind: "hashed-text", features: 2048 } })).toMatchObject({
      kind: "hashed-text",
      features: 2048,
    });
    expect(generic({ input: { kind: "text", prompt: "Once" } })).toMatchObject({ kind: "text", prompt: "Once" });
    // Too many pixels for the inference API, a negative width, a fractional feature count, an unknown
    // kind, classes that are not strings, no block.
    for (const input of [
      { kind: "image", width: 100, height: 100 },
      { kind: "image", width: -1, height: 28 },
      { kind: "hashed-text", features: 2.5 },
      { kind: "translation" },
      { kind: "image", width: 28, height: 28, classes: [1, 2] },
    ])
      expect(generic({ input })).toEqual({ kind: "text" });
    expect(generic(undefined)).toEqual({ kind: "text" });
  });

  it("a CharSeq2Seq base opens the transliteration page, with or without its input block", () => {
    expect(playgroundFor({ model_type: "char_seq2seq" })).toEqual({ page: "transliteration", examples: [] });
    expect(
      playgroundFor({ model_type: "char_seq2seq", input: { kind: "transliteration", examples: ["мир"] } }),
    ).toEqual({ page: "transliteration", examples: ["мир"] });
    expect(playgroundFor({ model_type: "gpt2" }).page).toBe("generic");
  });

  it("an image base the 28x28 canvas cannot feed is refused with the reason", () => {
    const c = playgroundFor({ input: { kind: "image", width: 32, height: 32 } });
    expect(c).toMatchObject({ page: "none" });
    expect(c.page === "none" && c.reason).toMatch(/32x32 images.*28x28/);
  });
});

describe("agreement between the browser's and the server's answers", () => {
  const classes = (logits: number[]): ModelOutput => ({
    kind: "classes",
    top: [],
    ids: [],
    values: logits,
    classes: logits.map((logit, i) => ({ label: ["negative", "positive"][i] ?? String(i), p: 0, logit })),
    continuation: "",
    ms: 0,
  });

  it("classifiers: the same class and scores within 1e-3 agree; another class or a larger difference does not", () => {
    expect(agreementOf(classes([0.2, 1.5]), { shape: [2], output: [0.2001, 1.5002] })).toMatch(
      /^Agrees: server's class is positive, the browser's positive/,
    );
    expect(agreementOf(classes([0.2, 1.5]), { shape: [2], output: [1.6, 1.5] })).toMatch(/^Disagrees/);
    expect(agreementOf(classes([0.2, 1.5]), { shape: [2], output: [0.2, 1.51] })).toMatch(/^Disagrees/);
  });

  it("language models: the same top token and logits within 1e-3 agree", () => {
    const mine: ModelOutput = {
      kind: "next-token",
      top: [{ id: 2, text: "x", p: 0.5, logit: 3 }],
      ids: [1],
      values: [],
      continuation: "",
      ms: 0,
    };
    expect(agreementOf(mine, { shape: [1, 1, 4], output: [0, 1, 3.0002, 2] })).toMatch(/^Agrees/);
    expect(agreementOf(mine, { shape: [1, 1, 4], output: [0, 4, 3, 2] })).toMatch(/^Disagrees/);
  });
});
