import { readFileSync } from "node:fs";
import { join } from "node:path";
import { peftFilesFor } from "@lowrank/api/testing";
import { findRepoRoot } from "@lowrank/db";
import {
  type HfConfig,
  manifestFromConfig,
  peftToGgufLora,
  peftToKohya,
  readPeftAdapter,
  serializeSafetensors,
} from "@lowrank/formats";
import { describe, expect, it } from "vitest";
import { checkAdapterFiles } from "./checkAdapterFiles.js";

const config = JSON.parse(
  readFileSync(join(findRepoRoot(), "fixtures", "hf-gpt2-tiny", "config.json"), "utf8"),
) as HfConfig;
const manifest = manifestFromConfig(config);
const base = { name: "gpt2-tiny", manifest };
const modules = Object.keys(manifest.modules).filter(
  (n) => manifest.modules[n]?.layout !== "embedding" && !manifest.modules[n]?.tiedTo,
);

// The publish page's check, run before any upload: the same reader and manifest comparison as the hub.
describe("checkAdapterFiles", () => {
  it("passes a PEFT folder that fits the base", () => {
    const check = checkAdapterFiles(peftFilesFor(manifest, { r: 4, modules }), base);
    expect(check).toMatchObject({
      ok: true,
      format: "peft",
      errors: [],
      mismatches: [],
      modules: modules.length,
      rank: 4,
    });
  });

  it("lists every layer whose shapes do not fit, by name", () => {
    const check = checkAdapterFiles(peftFilesFor(manifest, { r: 4, modules, shapeOff: true }), base);
    expect(check.ok).toBe(false);
    expect(check.mismatches.map((m) => m.module).sort()).toEqual([...modules].sort());
    expect(check.mismatches[0]?.message).toContain(check.mismatches[0]?.module);
  });

  it("refuses pickle files and a set of files that is no adapter, without throwing", () => {
    const pickle = checkAdapterFiles({ "adapter_model.bin": new Uint8Array([0x80, 0x04]) }, base);
    expect(pickle.ok).toBe(false);
    expect(pickle.errors.join(" ")).toMatch(/adapter_model\.bin/);
    const stray = checkAdapterFiles({ "a.txt": new Uint8Array(1), "b.txt": new Uint8Array(1) }, base);
    expect(stray.ok).toBe(false);
    expect(stray.errors.join(" ")).toContain("a.txt, b.txt");
    const broken = checkAdapterFiles({ "adapter_config.json": new TextEncoder().encode("{") }, base);
    expect(broken.ok).toBe(false);
    expect(broken.errors).toHaveLength(1);
  });

  it("reads a GGUF LoRA (llama.cpp's format) and checks it against the base the same way", () => {
    const gguf = (shapeOff: boolean) =>
      peftToGgufLora(readPeftAdapter(peftFilesFor(manifest, { r: 4, modules, shapeOff })).adapter, {
        architecture: "gpt2",
      }).bytes;
    const fits = checkAdapterFiles({ "adapter.gguf": gguf(false) }, base);
    expect(fits).toMatchObject({ ok: true, format: "gguf", errors: [], modules: modules.length, rank: 4 });
    const off = checkAdapterFiles({ "adapter.gguf": gguf(true) }, base);
    expect(off).toMatchObject({ ok: false, format: "gguf", errors: [] });
    expect(off.mismatches.map((m) => m.module).sort()).toEqual([...modules].sort());
    // The message names the layer and both shapes.
    expect(off.mismatches.find((m) => m.module === "h.0.attn.c_attn")?.message).toMatch(
      /h\.0\.attn\.c_attn: expected lora_A \[4,2\].*found \[4,3\]/,
    );
    const notLora = checkAdapterFiles({ "adapter.gguf": new Uint8Array([0x47, 0x47, 0x55, 0x46, 3, 0, 0, 0]) }, base);
    expect(notLora.ok).toBe(false);
    expect(notLora.errors).toHaveLength(1);
  });

  it("reads a kohya file with the base's module names (no guessed names) and checks it the same way", () => {
    const kohya = (shapeOff: boolean) =>
      serializeSafetensors(
        peftToKohya(readPeftAdapter(peftFilesFor(manifest, { r: 4, modules, shapeOff })).adapter, { prefix: "lora_te" })
          .tensors,
      );
    const fits = checkAdapterFiles({ "tiny.safetensors": kohya(false) }, base);
    expect(fits).toMatchObject({ ok: true, format: "kohya", errors: [], modules: modules.length, rank: 4 });
    expect(fits.warnings.filter((w) => /guessed|heuristic/.test(w))).toEqual([]);
    const off = checkAdapterFiles({ "tiny.safetensors": kohya(true) }, base);
    expect(off).toMatchObject({ ok: false, format: "kohya" });
    expect(off.mismatches.map((m) => m.module).sort()).toEqual([...modules].sort());
  });

  it("reads a GGUF LoRA that llama.cpp's writer made (no head counts inside) with the base's head counts", () => {
    // gguf-py's GGUFWriter, laid out as convert_lora_to_gguf.py writes it (fixtures/gguf-lora-gguf-py).
    const file = readFileSync(join(findRepoRoot(), "fixtures", "gguf-lora-gguf-py", "llama-lora-embd-q-down.gguf"));
    const llama = manifestFromConfig({
      model_type: "llama",
      architectures: ["LlamaForCausalLM"],
      hidden_size: 8,
      intermediate_size: 12,
      num_hidden_layers: 1,
      num_attention_heads: 2,
      num_key_value_heads: 2,
      vocab_size: 16,
    });
    const files = { "llama-lora.gguf": new Uint8Array(file) };
    const withHeads = checkAdapterFiles(files, { name: "llama-tiny", manifest: llama, headCount: 2, headCountKv: 2 });
    expect(withHeads).toMatchObject({ ok: true, format: "gguf", errors: [], modules: 3, rank: 2 });
    // Without them the q rows cannot be put back in Hugging Face's order: refused, saying why.
    const without = checkAdapterFiles(files, { name: "llama-tiny", manifest: llama });
    expect(without.ok).toBe(false);
    expect(without.errors.join(" ")).toMatch(/head count/);
  });
});
