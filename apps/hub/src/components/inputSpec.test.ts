import { describe, expect, it } from "vitest";
import { inputSpecOf } from "./inputSpec.js";
import type { ModelOutput } from "./playgroundModel.js";
import { agreementOf } from "./serverAgreement.js";

describe("the playground's input block", () => {
  it("reads image and hashed-text blocks, and falls back to the prompt for anything else or malformed", () => {
    const digits = Array.from({ length: 10 }, (_, i) => String(i));
    expect(inputSpecOf({ input: { kind: "image", width: 28, height: 28, classes: digits } })).toEqual({
      kind: "image",
      width: 28,
      height: 28,
      classes: digits,
    });
    expect(inputSpecOf({ input: { kind: "hashed-text", features: 2048 } })).toMatchObject({
      kind: "hashed-text",
      features: 2048,
    });
    expect(inputSpecOf({ input: { kind: "text", prompt: "Once" } })).toMatchObject({ kind: "text", prompt: "Once" });
    // Too many pixels for the inference API, a negative width, a fractional feature count, no block.
    for (const input of [
      { kind: "image", width: 100, height: 100 },
      { kind: "image", width: -1, height: 28 },
      { kind: "hashed-text", features: 2.5 },
      { kind: "translation" },
    ])
      expect(inputSpecOf({ input }).kind).toBe("text");
    expect(inputSpecOf(undefined).kind).toBe("text");
    expect(inputSpecOf({ input: { kind: "image", width: 28, height: 28, classes: [1, 2] } })).toMatchObject({
      classes: undefined,
    });
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
