import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { hubInputSchema } from "./hubInput.js";

const artifacts = fileURLToPath(new URL("../../../../examples/artifacts/", import.meta.url));

describe("hub.json's input block", () => {
  it("every committed examples/artifacts hub.json has one the schema takes, of a known kind", () => {
    const kinds = readdirSync(artifacts, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => JSON.parse(readFileSync(`${artifacts}${d.name}/hub.json`, "utf8")).base.input)
      .map((input) => hubInputSchema.parse(input).kind);
    expect(kinds.sort()).toEqual(["hashed-text", "image", "text", "transliteration"]);
  });

  it("discriminates on kind: each kind's own fields are checked, an unknown kind is refused", () => {
    expect(hubInputSchema.parse({ kind: "transliteration" })).toEqual({ kind: "transliteration", examples: [] });
    expect(hubInputSchema.safeParse({ kind: "hashed-text" }).success).toBe(false);
    expect(hubInputSchema.safeParse({ kind: "text", features: 3 }).success).toBe(true);
    expect(hubInputSchema.safeParse({ kind: "translation" }).success).toBe(false);
    expect(hubInputSchema.safeParse({ kind: "text", classes: [1] }).success).toBe(false);
  });

  it("property: an image block is taken exactly when its sides are whole, positive and at most 4096 values in all", () => {
    fc.assert(
      fc.property(fc.integer({ min: -2, max: 5000 }), fc.integer({ min: -2, max: 5000 }), (width, height) => {
        const ok = width >= 1 && height >= 1 && width * height <= 4096;
        expect(hubInputSchema.safeParse({ kind: "image", width, height }).success).toBe(ok);
      }),
    );
  });
});
