import { fixturePath } from "@lowrank/vitest-config/fixtures";
import { describe, expect, it } from "vitest";
import { loadTokenizer } from "./loadTokenizer.js";

describe("loadTokenizer", () => {
  it("encodes and decodes with the real GPT-2 BPE (tokenizer.json)", async () => {
    const tok = await loadTokenizer(fixturePath("hf-gpt2-lmhead-tiny"));
    // Ids of GPT-2's published vocabulary (the same ids make_golden.py feeds the model).
    const ids = tok.encode("The quick brown fox jumps over the lazy dog.");
    expect(ids).toEqual([464, 2068, 7586, 21831, 18045, 625, 262, 16931, 3290, 13]);
    expect(tok.decode(ids)).toBe("The quick brown fox jumps over the lazy dog.");
    expect(tok.eosTokenId).toBe(50256);
    expect(tok.vocabSize).toBe(50257);
    expect(tok.decode([50256, 464], { skipSpecialTokens: true })).toBe("The");
  });

  it("builds a byte-level BPE from vocab.json + merges.txt when tokenizer.json is absent", async () => {
    const tok = await loadTokenizer(fixturePath("hf-gpt2-tiny"));
    // vocab: Ġlow=14, er=15, Ġ=10, l=0, o=1, w=2; merges "Ġ l", "Ġl o", "Ġlo w", "e r".
    expect(tok.encode(" lower")).toEqual([14, 15]);
    expect(tok.decode([14, 15])).toBe(" lower");
    expect(tok.eosTokenId).toBe(20);
  });

  it("says what is missing in a folder without tokenizer files", async () => {
    await expect(loadTokenizer(fixturePath("peft-gpt2-tigrinya-lora"))).rejects.toMatchObject({ code: "NotFound" });
  });
});
