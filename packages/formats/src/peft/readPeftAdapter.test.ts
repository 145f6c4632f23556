import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fixturePath } from "@lowrank/vitest-config/fixtures";
import { afterAll, describe, expect, it } from "vitest";
import { parseSafetensors } from "../safetensors/parseSafetensors.js";
import { serializeSafetensors } from "../safetensors/serializeSafetensors.js";
import { readPeftFolder, writePeftFolder } from "./node.js";
import type { PeftAdapter } from "./PeftAdapter.js";
import { readPeftAdapter, safeReadPeftAdapter } from "./readPeftAdapter.js";
import { peftTensors, writePeftAdapter } from "./writePeftAdapter.js";

// Real adapters written by PEFT (see each folder's SOURCE.md): tigrinya (MIT), dialogpt (Apache-2.0).
const tigrinya = fixturePath("peft-gpt2-tigrinya-lora");
const dialogpt = fixturePath("peft-dialogpt-small-tiny-lora");
const tmp = mkdtempSync(join(tmpdir(), "lowrank-peft-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function sameAdapter(a: PeftAdapter, b: PeftAdapter): void {
  expect(b.config).toEqual(a.config);
  const ta = peftTensors(a);
  const tb = peftTensors(b);
  expect(Object.keys(tb).sort()).toEqual(Object.keys(ta).sort());
  for (const [k, t] of Object.entries(ta)) {
    const u = tb[k];
    expect(u?.dtype, k).toBe(t.dtype);
    expect(u?.shape, k).toEqual(t.shape);
    expect(Buffer.compare(Buffer.from(u?.data ?? []), Buffer.from(t.data)), k).toBe(0);
  }
}

describe("PEFT folders: real adapters", () => {
  it("reads the tigrinya GPT-2 adapter: r, alpha, targets, 36 modules / 72 tensors, Conv1D shapes", async () => {
    const { adapter, warnings } = await readPeftFolder(tigrinya);
    expect(warnings).toEqual([]);
    expect(adapter.config.r).toBe(8);
    expect(adapter.config.lora_alpha).toBe(32);
    expect(adapter.config.target_modules).toEqual(["c_attn", "c_proj"]);
    expect(adapter.config.fan_in_fan_out).toBe(true);
    expect(adapter.config.base_model_name_or_path).toBe("gpt2");
    expect(Object.keys(adapter.modules)).toHaveLength(36);
    expect(Object.keys(peftTensors(adapter))).toHaveLength(72);
    const attn = adapter.modules["transformer.h.0.attn.c_attn"];
    expect(attn?.A.shape).toEqual([8, 768]);
    expect(attn?.B.shape).toEqual([2304, 8]);
    expect(adapter.modules["transformer.h.11.mlp.c_proj"]?.A.shape).toEqual([8, 3072]);
    expect(adapter.metadata).toEqual({ format: "pt" });
    // Independent check of one value: first float of the first tensor straight from the file bytes.
    const raw = readFileSync(join(tigrinya, "adapter_model.safetensors"));
    const n = Number(raw.readBigUInt64LE(0));
    const header = JSON.parse(raw.subarray(8, 8 + n).toString());
    const entry = header["base_model.model.transformer.h.0.attn.c_attn.lora_A.weight"];
    const expected = raw.readFloatLE(8 + n + entry.data_offsets[0]);
    expect(new DataView(attn!.A.data.buffer, attn!.A.data.byteOffset).getFloat32(0, true)).toBe(expected);
  });

  it("reads the dialogpt adapter: warns about the unknown key `alpha`, keeps it, parses the card", async () => {
    const { adapter, warnings } = await readPeftFolder(dialogpt);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('"alpha"');
    expect(adapter.config.alpha).toBe(16);
    expect(Object.keys(adapter.modules)).toHaveLength(12);
    expect(Object.keys(adapter.modules).every((m) => /^transformer\.h\.[0-5]\./.test(m))).toBe(true);
    expect(adapter.modelCard?.data).toBeNull();
    expect(adapter.modelCard?.body).toContain("# Tiny LoRA Adapter Example");
  });

  for (const [name, dir] of [
    ["tigrinya", tigrinya],
    ["dialogpt", dialogpt],
  ] as const) {
    it(`round-trips ${name}: read -> write -> read gives the same config and tensors, and writing is deterministic`, async () => {
      const first = await readPeftFolder(dir);
      const out = join(tmp, `${name}-out`);
      await writePeftFolder(out, first.adapter);
      const second = await readPeftFolder(out);
      sameAdapter(first.adapter, second.adapter);
      expect(second.adapter.config.alpha).toEqual(first.adapter.config.alpha);
      expect(second.warnings).toEqual(first.warnings);
      expect(second.adapter.modelCard).toEqual(first.adapter.modelCard);
      const a = writePeftAdapter(first.adapter);
      const b = writePeftAdapter(second.adapter);
      for (const f of Object.keys(a)) expect(Buffer.compare(Buffer.from(a[f]!), Buffer.from(b[f]!)), f).toBe(0);
      // The config file is PEFT's own layout: sorted keys, indent 2; tigrinya's original is byte-identical.
      if (name === "tigrinya")
        expect(new TextDecoder().decode(a["adapter_config.json"])).toBe(
          readFileSync(join(dir, "adapter_config.json"), "utf8"),
        );
    });
  }
});

describe("PEFT folders: refusals and edge cases", () => {
  it("refuses a folder with only adapter_model.bin, without reading it", async () => {
    const dir = join(tmp, "pickle");
    mkdirSync(dir);
    writeFileSync(join(dir, "adapter_config.json"), readFileSync(join(tigrinya, "adapter_config.json")));
    writeFileSync(join(dir, "adapter_model.bin"), "not really a pickle");
    await expect(readPeftFolder(dir)).rejects.toMatchObject({ code: "PickleRefused" });
    const r = safeReadPeftAdapter({ "adapter_config.json": new Uint8Array(2), "adapter_model.bin": new Uint8Array(1) });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe("PickleRefused");
      expect(r.error.message).toMatch(/arbitrary code/);
      expect(r.error.message).toMatch(/save_file/);
      expect(r.error.message).toMatch(/safe_serialization=True/);
    }
  });

  it("reads embeddings, lora bias, modules_to_save and unknown tensors; writes them back under PEFT's keys", () => {
    const f32 = (shape: number[], seed: number) => {
      const a = new Float32Array(shape.reduce((x, y) => x * y, 1)).map((_, i) => seed + i);
      return { dtype: "F32" as const, shape, data: new Uint8Array(a.buffer) };
    };
    const tensors = {
      "base_model.model.model.embed_tokens.lora_embedding_A": f32([4, 10], 1),
      "base_model.model.model.embed_tokens.lora_embedding_B": f32([6, 4], 2),
      "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight": f32([4, 6], 3),
      "base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight": f32([6, 4], 4),
      "base_model.model.model.layers.0.self_attn.q_proj.lora_B.bias": f32([6], 5),
      "base_model.model.score.weight": f32([2, 6], 6),
      "base_model.model.model.layers.0.self_attn.q_proj.lora_magnitude_vector": f32([6], 7),
    };
    const config = {
      r: 4,
      lora_alpha: 8,
      target_modules: ["q_proj", "embed_tokens"],
      modules_to_save: ["score"],
      peft_type: "LORA",
    };
    const files = {
      "adapter_config.json": new TextEncoder().encode(JSON.stringify(config)),
      "adapter_model.safetensors": serializeSafetensors(tensors),
    };
    const { adapter, warnings } = readPeftAdapter(files);
    expect(adapter.modules["model.embed_tokens"]?.kind).toBe("embedding");
    expect(adapter.modules["model.layers.0.self_attn.q_proj"]?.bias?.shape).toEqual([6]);
    expect(Object.keys(adapter.modulesToSave)).toEqual(["score"]);
    expect(Object.keys(adapter.otherTensors)).toEqual([
      "base_model.model.model.layers.0.self_attn.q_proj.lora_magnitude_vector",
    ]);
    expect(warnings).toHaveLength(1);
    const back = parseSafetensors(writePeftAdapter(adapter)["adapter_model.safetensors"]!);
    expect(back.names().sort()).toEqual(Object.keys(tensors).sort());
  });

  it("refuses a missing half, a rank that disagrees with the config, and bad configs", () => {
    const A = { dtype: "F32" as const, shape: [2, 3], data: new Uint8Array(24) };
    const B = { dtype: "F32" as const, shape: [3, 2], data: new Uint8Array(24) };
    const cfg = (c: object) => new TextEncoder().encode(JSON.stringify(c));
    const st = (t: object) => serializeSafetensors(t as never);
    const code = (files: Record<string, Uint8Array>) => {
      const r = safeReadPeftAdapter(files);
      return r.ok ? "ok" : r.error.code;
    };
    expect(
      code({
        "adapter_config.json": cfg({ r: 2 }),
        "adapter_model.safetensors": st({
          "base_model.model.x.lora_A.weight": A,
          "base_model.model.x.lora_B.weight": B,
        }),
      }),
    ).toBe("ok");
    expect(
      code({
        "adapter_config.json": cfg({ r: 2 }),
        "adapter_model.safetensors": st({ "base_model.model.x.lora_A.weight": A }),
      }),
    ).toBe("InvalidConfig");
    expect(
      code({
        "adapter_config.json": cfg({ r: 4 }),
        "adapter_model.safetensors": st({
          "base_model.model.x.lora_A.weight": A,
          "base_model.model.x.lora_B.weight": B,
        }),
      }),
    ).toBe("ShapeMismatch");
    expect(
      code({
        "adapter_config.json": cfg({ r: 2, rank_pattern: { x: 2 } }),
        "adapter_model.safetensors": st({
          "base_model.model.x.lora_A.weight": A,
          "base_model.model.x.lora_B.weight": B,
        }),
      }),
    ).toBe("ok");
    for (const bad of [
      { r: 0 },
      { r: 2.5 },
      { peft_type: "IA3" },
      { target_modules: 3 },
      { alpha_pattern: { a: "x" } },
      [1],
    ]) {
      expect(code({ "adapter_config.json": cfg(bad), "adapter_model.safetensors": st({}) }), JSON.stringify(bad)).toBe(
        "InvalidConfig",
      );
    }
    expect(code({ "adapter_config.json": new TextEncoder().encode("{"), "adapter_model.safetensors": st({}) })).toBe(
      "InvalidConfig",
    );
  });

  it("writes atomically: an existing folder is refused unless overwrite, and no temp folder is left", async () => {
    const { adapter } = await readPeftFolder(dialogpt);
    const out = join(tmp, "atomic");
    await writePeftFolder(out, adapter);
    await expect(writePeftFolder(out, adapter)).rejects.toMatchObject({ code: "IoError" });
    await writePeftFolder(out, { ...adapter, modelCard: null }, { overwrite: true });
    expect(existsSync(join(out, "README.md"))).toBe(false);
    expect(readdirSync(tmp).filter((n) => n.includes(".tmp-") || n.includes(".old-"))).toEqual([]);
    // A failing write (a tensor whose bytes disagree with its shape) leaves nothing behind.
    const broken = {
      ...adapter,
      otherTensors: { bad: { dtype: "F32" as const, shape: [3], data: new Uint8Array(5) } },
    };
    await expect(writePeftFolder(join(tmp, "never"), broken)).rejects.toMatchObject({
      name: "FormatError",
      code: "TensorInvalidInfo",
      message: expect.stringMatching(/expected 12 bytes for F32 \[3\], found 5/),
    });
    expect(existsSync(join(tmp, "never"))).toBe(false);
    expect(readdirSync(tmp).filter((n) => n.includes(".tmp-"))).toEqual([]);
  });
});
