import { readFileSync } from "node:fs";
import { fixturePath } from "@lowrank/vitest-config/fixtures";
import { describe, expect, it } from "vitest";
import { parseModelCard, peftModelCard, safeParseModelCard, serializeModelCard } from "./modelCard.js";

describe("model cards", () => {
  it("parses a card without front matter (peft-dialogpt-small-tiny-lora, Apache-2.0)", () => {
    const text = readFileSync(fixturePath("peft-dialogpt-small-tiny-lora", "README.md"), "utf8");
    const card = parseModelCard(text);
    expect(card.data).toBeNull();
    expect(card.body).toBe(text);
    expect(card.body).toContain("microsoft/DialoGPT-small");
  });

  it("parses PEFT-style front matter and keeps the body exactly", () => {
    const text =
      "---\nbase_model: gpt2\nlibrary_name: peft\ntags:\n- lora\n- base_model:adapter:gpt2\nlicense: mit\n---\n\n# Model Card\n\nbody: not yaml\n";
    const card = parseModelCard(text);
    expect(card.data).toEqual({
      base_model: "gpt2",
      library_name: "peft",
      tags: ["lora", "base_model:adapter:gpt2"],
      license: "mit",
    });
    expect(card.body).toBe("\n# Model Card\n\nbody: not yaml\n");
    expect(parseModelCard(serializeModelCard(card))).toEqual(card);
  });

  it("refuses broken YAML and non-mapping front matter with InvalidConfig", () => {
    for (const text of ["---\nkey: [unclosed\n---\nbody", "---\n- a\n- b\n---\n", "---\na: 1\na: 2\n---\n"]) {
      const r = safeParseModelCard(text);
      expect(r.ok ? "ok" : r.error.code, text).toBe("InvalidConfig");
    }
  });

  it("builds the PEFT card fields, keeping existing data", () => {
    const card = peftModelCard(
      { baseModel: "gpt2", license: "apache-2.0" },
      { data: { license: "mit", tags: ["x"] }, body: "\nhi\n" },
    );
    expect(card.data).toEqual({
      license: "mit",
      tags: ["x", "base_model:adapter:gpt2", "lora"],
      base_model: "gpt2",
      library_name: "peft",
    });
    expect(card.body).toBe("\nhi\n");
    const again = parseModelCard(serializeModelCard(card));
    expect(again.data).toEqual(card.data);
  });
});
