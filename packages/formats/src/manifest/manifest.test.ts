import { readFileSync } from "node:fs";
import { fixturePath } from "@lowrank/vitest-config/fixtures";
import { describe, expect, it } from "vitest";
import { sha256Hex } from "../digest.js";
import { readPeftFolder } from "../peft/node.js";
import type { PeftAdapter } from "../peft/PeftAdapter.js";
import { parseManifest, safeParseManifest, serializeManifest } from "./BaseManifest.js";
import { assertAdapterFitsBase, checkAdapterAgainstBase } from "./checkAdapterAgainstBase.js";
import { manifestFromConfig } from "./manifestFromConfig.js";
import { readBaseManifest } from "./node.js";

// The real `gpt2` config.json (n_embd 768, 12 layers, GPT2LMHeadModel), written here by hand.
const GPT2 = {
  architectures: ["GPT2LMHeadModel"],
  model_type: "gpt2",
  n_embd: 768,
  n_layer: 12,
  n_head: 12,
  n_inner: null,
  n_positions: 1024,
  vocab_size: 50257,
};
const tigrinya = (await readPeftFolder(fixturePath("peft-gpt2-tigrinya-lora"))).adapter;
const dialogpt = (await readPeftFolder(fixturePath("peft-dialogpt-small-tiny-lora"))).adapter;
const json = (dir: string) => JSON.parse(readFileSync(fixturePath(dir, "config.json"), "utf8"));

describe("manifests from config and from real checkpoints", () => {
  it("builds GPT-2 (LM head) from config: Conv1D shapes [in, out], tied lm_head, digest over the listing", () => {
    const m = manifestFromConfig(GPT2);
    expect(Object.keys(m.modules)).toHaveLength(2 + 12 * 4 + 1);
    expect(m.modules["transformer.h.0.attn.c_attn"]).toEqual({
      shape: [768, 2304],
      layout: "conv1d",
      inFeatures: 768,
      outFeatures: 2304,
    });
    expect(m.modules["transformer.h.11.mlp.c_proj"]).toMatchObject({
      shape: [3072, 768],
      inFeatures: 3072,
      outFeatures: 768,
    });
    expect(m.modules.lm_head).toMatchObject({ tiedTo: "transformer.wte", shape: [50257, 768] });
    // Independent digest: the listing rebuilt here by hand.
    const lines = Object.entries(m.modules)
      .map(([n, x]) => `${n} ${x.layout} ${x.shape.join("x")}${x.tiedTo ? ` tied:${x.tiedTo}` : ""}`)
      .sort((a, b) => (a < b ? -1 : 1));
    expect(m.digest).toBe(sha256Hex(new TextEncoder().encode(`architecture GPT2LMHeadModel\n${lines.join("\n")}\n`)));
  });

  for (const dir of ["hf-gpt2-tiny", "hf-gpt2-lmhead-tiny", "hf-bert-tiniest"]) {
    it(`${dir}: the manifest from the safetensors header equals the one from config.json alone`, async () => {
      const fromHeader = await readBaseManifest(fixturePath(dir));
      const fromConfig = manifestFromConfig(json(dir));
      expect(fromHeader.modules).toEqual(fromConfig.modules);
      expect(fromHeader.digest).toBe(fromConfig.digest);
      expect(parseManifest(serializeManifest(fromHeader))).toEqual(fromHeader);
    });
  }

  it("names modules per head class: GPT2Model has no `transformer.` prefix, BERT LM head has `bert.`", async () => {
    const tiny = await readBaseManifest(fixturePath("hf-gpt2-tiny"));
    expect(tiny.modules["h.0.attn.c_attn"]).toMatchObject({ shape: [2, 6], layout: "conv1d" });
    expect(tiny.modules.lm_head).toBeUndefined();
    const lm = await readBaseManifest(fixturePath("hf-gpt2-lmhead-tiny"));
    expect(lm.modules["transformer.h.0.mlp.c_fc"]).toMatchObject({ shape: [2, 8], inFeatures: 2, outFeatures: 8 });
    expect(lm.modules.lm_head).toMatchObject({ tiedTo: "transformer.wte", shape: [50257, 2] });
    const bert = await readBaseManifest(fixturePath("hf-bert-tiniest"));
    expect(bert.modules["bert.encoder.layer.0.intermediate.dense"]).toMatchObject({
      shape: [8, 4],
      layout: "linear",
      inFeatures: 4,
      outFeatures: 8,
    });
    expect(bert.modules["bert.embeddings.word_embeddings"]).toMatchObject({ layout: "embedding", shape: [30522, 4] });
    expect(bert.modules["cls.predictions.decoder"]).toMatchObject({ tiedTo: "bert.embeddings.word_embeddings" });
  });

  it("builds Llama from config (GQA: k/v narrower than q)", () => {
    const m = manifestFromConfig({
      architectures: ["LlamaForCausalLM"],
      model_type: "llama",
      hidden_size: 64,
      intermediate_size: 172,
      num_hidden_layers: 2,
      num_attention_heads: 8,
      num_key_value_heads: 2,
      vocab_size: 100,
    });
    expect(m.modules["model.layers.1.self_attn.q_proj"]?.shape).toEqual([64, 64]);
    expect(m.modules["model.layers.1.self_attn.k_proj"]?.shape).toEqual([16, 64]);
    expect(m.modules["model.layers.0.mlp.down_proj"]).toMatchObject({
      shape: [64, 172],
      inFeatures: 172,
      outFeatures: 64,
    });
    expect(m.modules.lm_head).toMatchObject({ shape: [100, 64], layout: "linear" });
    expect(m.modules.lm_head?.tiedTo).toBeUndefined();
  });

  it("refuses a stored manifest whose digest does not match its modules", () => {
    const m = manifestFromConfig(GPT2);
    const edited = JSON.parse(serializeManifest(m));
    edited.modules["transformer.h.0.attn.c_attn"].shape = [768, 2305];
    const r = safeParseManifest(JSON.stringify(edited));
    expect(r.ok ? "ok" : r.error.code).toBe("InvalidConfig");
  });
});

describe("checkAdapterAgainstBase", () => {
  it("the tigrinya adapter fits GPT-2 from config: 36 modules matched, no mismatches", () => {
    const check = assertAdapterFitsBase(tigrinya, manifestFromConfig(GPT2));
    expect(Object.keys(check.matched)).toHaveLength(36);
    expect(check.mismatches).toEqual([]);
    expect(check.warnings).toEqual([]);
  });

  it("matches GPT2Model names (no `transformer.` prefix) too", () => {
    const check = checkAdapterAgainstBase(tigrinya, manifestFromConfig({ ...GPT2, architectures: ["GPT2Model"] }));
    expect(check.ok).toBe(true);
    expect(check.matched["transformer.h.3.attn.c_attn"]).toBe("h.3.attn.c_attn");
  });

  it("dialogpt (fan_in_fan_out false on Conv1D) fits, with PEFT's auto-fix as a warning", () => {
    const check = checkAdapterAgainstBase(dialogpt, manifestFromConfig(GPT2));
    expect(check.ok).toBe(true);
    expect(check.warnings).toHaveLength(12);
  });

  it("n_embd 512: every module reported with expected and actual shapes", () => {
    const check = checkAdapterAgainstBase(tigrinya, manifestFromConfig({ ...GPT2, n_embd: 512 }));
    expect(check.ok).toBe(false);
    expect(check.mismatches).toHaveLength(36);
    const m = check.mismatches.find((x) => x.module === "transformer.h.0.attn.c_attn");
    expect(m).toMatchObject({
      reason: "shape",
      expected: { A: [8, 512], B: [1536, 8] },
      actual: { A: [8, 768], B: [2304, 8] },
    });
    expect(m?.message).toContain("[8,512]");
    expect(() => assertAdapterFitsBase(tigrinya, manifestFromConfig({ ...GPT2, n_embd: 512 }))).toThrow(
      expect.objectContaining({ code: "ShapeMismatch" }),
    );
  });

  it("6 layers: the 18 modules of layers 6-11 are reported missing, the rest match", () => {
    const check = checkAdapterAgainstBase(tigrinya, manifestFromConfig({ ...GPT2, n_layer: 6 }));
    expect(Object.keys(check.matched)).toHaveLength(18);
    expect(check.mismatches.map((m) => m.reason)).toEqual(Array(18).fill("missing-module"));
    expect(check.mismatches.every((m) => /^transformer\.h\.([6-9]|1[01])\./.test(m.module))).toBe(true);
  });

  it("a BERT base: NoMatchingModules, never a silent no-op", async () => {
    const bert = await readBaseManifest(fixturePath("hf-bert-tiniest"));
    expect(() => checkAdapterAgainstBase(tigrinya, bert)).toThrow(
      expect.objectContaining({ code: "NoMatchingModules" }),
    );
    const empty: PeftAdapter = { ...tigrinya, modules: {} };
    expect(() => checkAdapterAgainstBase(empty, manifestFromConfig(GPT2))).toThrow(
      expect.objectContaining({ code: "NoMatchingModules" }),
    );
  });
});
