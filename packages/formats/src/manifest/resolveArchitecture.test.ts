import { describe, expect, it } from "vitest";
import { manifestFromConfig } from "./manifestFromConfig.js";
import { resolveArchitecture } from "./resolveArchitecture.js";

const gpt2 = { model_type: "gpt2", n_embd: 4, n_layer: 1, n_head: 1, vocab_size: 10, n_positions: 8 };
const bert = {
  model_type: "bert",
  hidden_size: 4,
  intermediate_size: 8,
  num_hidden_layers: 1,
  num_attention_heads: 1,
  vocab_size: 10,
};
const has = (names: string[]) => (n: string) => names.includes(n);

describe("resolveArchitecture: one rule for the class of a base", () => {
  it("architectures decides when it names the class", () => {
    expect(resolveArchitecture({ ...gpt2, architectures: ["GPT2LMHeadModel"] })).toMatchObject({
      architecture: "GPT2LMHeadModel",
      prefix: "transformer.",
      lmHead: true,
    });
    expect(
      resolveArchitecture({ ...gpt2, architectures: ["GPT2Model"] }, has(["transformer.wte.weight"])),
    ).toMatchObject({
      architecture: "GPT2Model",
      prefix: "",
    });
    expect(resolveArchitecture({ ...bert, architectures: ["BertForMaskedLM"] })).toMatchObject({
      architecture: "BertForMaskedLM",
      prefix: "bert.",
      lmHead: true,
    });
    expect(resolveArchitecture({ ...bert, architectures: ["BertForSequenceClassification"] })).toMatchObject({
      architecture: "BertForSequenceClassification",
      prefix: "bert.",
      lmHead: false,
    });
  });

  it("without architectures: the checkpoint's names when known, else the bare backbone (Hugging Face's AutoModel)", () => {
    expect(resolveArchitecture(gpt2).architecture).toBe("GPT2Model");
    expect(resolveArchitecture(gpt2, has(["transformer.wte.weight"])).architecture).toBe("GPT2LMHeadModel");
    expect(resolveArchitecture(gpt2, has(["wte.weight"])).architecture).toBe("GPT2Model");
    expect(resolveArchitecture(bert).architecture).toBe("BertModel");
    expect(resolveArchitecture(bert, has(["cls.predictions.bias"]))).toMatchObject({ lmHead: true, prefix: "bert." });
    expect(resolveArchitecture(bert, has(["bert.embeddings.word_embeddings.weight"]))).toMatchObject({
      architecture: "BertModel",
      prefix: "bert.",
      lmHead: false,
    });
  });

  it("manifests list only what is built: no BERT pooler, the LM head's transform and tied decoder", () => {
    const plain = manifestFromConfig({ ...bert, architectures: ["BertModel"] });
    expect(Object.keys(plain.modules).some((m) => m.includes("pooler"))).toBe(false);
    const lm = manifestFromConfig({ ...bert, architectures: ["BertLMHeadModel"] });
    expect(lm.modules["cls.predictions.transform.dense"]?.shape).toEqual([4, 4]);
    expect(lm.modules["cls.predictions.decoder"]?.tiedTo).toBe("bert.embeddings.word_embeddings");
    expect(manifestFromConfig(gpt2).modules.lm_head).toBeUndefined();
    expect(manifestFromConfig({ ...gpt2, architectures: ["GPT2LMHeadModel"] }).modules.lm_head?.tiedTo).toBe(
      "transformer.wte",
    );
  });
});
