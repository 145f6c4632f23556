// GGUF LoRA fidelity (issue 10, item 20): the architectures the runtime runs, head counts stored,
// one rounding when folding, lora_B.bias and lora_alpha 0, and embedding LoRA on token_embd,
// checked against files other tools wrote (tigrinya PEFT, a gguf-py-written LoRA) and read back
// with @huggingface/gguf.
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { gguf as hfGguf } from "@huggingface/gguf";
import { fixturePath } from "@lowrank/vitest-config/fixtures";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PeftAdapter, PeftConfig } from "../peft/PeftAdapter.js";
import { readPeftAdapter } from "../peft/readPeftAdapter.js";
import { parseGguf } from "./GgufFile.js";
import { ggufLoraToPeft, peftToGgufLora } from "./ggufLora.js";

let tmp = "";
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), "lowrank-gguf-lora-"));
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

const floats = (b: Uint8Array) => new Float32Array(b.slice().buffer);
const f32 = (shape: number[], f: (i: number) => number) => ({
  dtype: "F32" as const,
  shape,
  data: new Uint8Array(new Float32Array(shape.reduce((a, b) => a * b, 1)).map((_, i) => f(i)).buffer),
});

function tigrinya(): PeftAdapter {
  const dir = fixturePath("peft-gpt2-tigrinya-lora");
  return readPeftAdapter({
    "adapter_config.json": new Uint8Array(readFileSync(`${dir}/adapter_config.json`)),
    "adapter_model.safetensors": new Uint8Array(readFileSync(`${dir}/adapter_model.safetensors`)),
  }).adapter;
}

function config(extra: Partial<PeftConfig> = {}): PeftConfig {
  return {
    peft_type: "LORA",
    r: 2,
    lora_alpha: 4,
    target_modules: ["q_proj", "v_proj"],
    fan_in_fan_out: false,
    rank_pattern: {},
    alpha_pattern: {},
    modules_to_save: null,
    use_rslora: false,
    base_model_name_or_path: null,
    task_type: "CAUSAL_LM",
    ...extra,
  };
}

function small(extra: Partial<PeftConfig> = {}, modules?: PeftAdapter["modules"]): PeftAdapter {
  return {
    config: config(extra),
    modules: modules ?? {
      "model.layers.0.self_attn.q_proj": { kind: "lora", A: f32([2, 8], (i) => i / 8), B: f32([8, 2], (i) => i / 16) },
      "model.layers.0.self_attn.v_proj": { kind: "lora", A: f32([2, 8], (i) => -i / 8), B: f32([4, 2], (i) => i / 4) },
    },
    modulesToSave: {},
    otherTensors: {},
    metadata: { format: "pt" },
    modelCard: null,
  };
}

describe("GPT-2 (the runtime's architecture) as llama.cpp names it", () => {
  const adapter = tigrinya();
  const { bytes, warnings } = peftToGgufLora(adapter);

  it("writes blk.N.attn_qkv / attn_output / ffn_up / ffn_down with general.architecture gpt2", () => {
    expect(warnings).toEqual([]);
    const file = parseGguf(bytes);
    expect(file.getString("general.architecture")).toBe("gpt2");
    expect(file.tensors.slice(0, 6).map((t) => t.name)).toEqual([
      "blk.0.attn_qkv.weight.lora_a",
      "blk.0.attn_qkv.weight.lora_b",
      "blk.0.attn_output.weight.lora_a",
      "blk.0.attn_output.weight.lora_b",
      "blk.0.ffn_down.weight.lora_a",
      "blk.0.ffn_down.weight.lora_b",
    ]);
    expect(file.tensors).toHaveLength(72);
  });

  it("is read by @huggingface/gguf with the shapes llama.cpp's loader checks against a GPT-2 base", async () => {
    const p = path.join(tmp, "tigrinya.gguf");
    await writeFile(p, bytes);
    const theirs = await hfGguf(p, { allowLocalFile: true });
    const metadata = theirs.metadata as unknown as Record<string, unknown>;
    expect(metadata["general.architecture"]).toBe("gpt2");
    expect(metadata["general.type"]).toBe("adapter");
    expect(metadata["adapter.lora.alpha"]).toBe(32);
    const shape = (n: string) => theirs.tensorInfos.find((t) => t.name === n)?.shape.map(Number);
    // llama.cpp's GPT-2 base stores Conv1D weights transposed, ne [n_in, n_out] (768 -> 2304 for c_attn);
    // its loader wants model.ne[0] == lora_a.ne[0] and model.ne[1] == lora_b.ne[1].
    expect(shape("blk.3.attn_qkv.weight.lora_a")).toEqual([768, 8]);
    expect(shape("blk.3.attn_qkv.weight.lora_b")).toEqual([8, 2304]);
    expect(shape("blk.3.ffn_down.weight.lora_a")).toEqual([3072, 8]);
    expect(shape("blk.3.ffn_down.weight.lora_b")).toEqual([8, 768]);
  });

  it("comes back as the same PEFT adapter (transformer.h.N names, same bytes and config)", () => {
    const back = ggufLoraToPeft(parseGguf(bytes));
    expect(back.warnings).toEqual([]);
    expect(back.adapter.config).toEqual(adapter.config);
    expect(Object.keys(back.adapter.modules).sort()).toEqual(Object.keys(adapter.modules).sort());
    for (const [m, w] of Object.entries(adapter.modules)) {
      const b = back.adapter.modules[m];
      expect([b?.kind, b?.A.dtype, b?.A.shape, b?.B.dtype, b?.B.shape], m).toEqual([
        w.kind,
        w.A.dtype,
        w.A.shape,
        w.B.dtype,
        w.B.shape,
      ]);
      expect(Buffer.compare(Buffer.from(b!.A.data), Buffer.from(w.A.data)), m).toBe(0);
      expect(Buffer.compare(Buffer.from(b!.B.data), Buffer.from(w.B.data)), m).toBe(0);
    }
  });

  it("without lowrank's keys, rebuilds a GPT-2 config (fan_in_fan_out, transformer.h.N names)", () => {
    const file = parseGguf(bytes);
    const stripped = new Map(file.metadata);
    stripped.delete("lowrank.peft_config");
    stripped.delete("lowrank.module_prefix");
    const back = ggufLoraToPeft({
      ...file,
      metadata: stripped,
      getString: (k: string) => {
        const v = stripped.get(k);
        return v?.type === "string" ? v.value : undefined;
      },
      getNumber: file.getNumber.bind(file),
      getTensor: file.getTensor.bind(file),
      tensors: file.tensors,
    } as never);
    expect(back.adapter.config).toMatchObject({
      r: 8,
      lora_alpha: 32,
      fan_in_fan_out: true,
      target_modules: ["c_attn", "c_proj"],
    });
    expect(Object.keys(back.adapter.modules)).toContain("transformer.h.11.mlp.c_proj");
  });

  it("refuses other architectures by name, and modules with no name in the architecture asked for", () => {
    expect(() => peftToGgufLora(adapter, { architecture: "falcon" })).toThrow(
      expect.objectContaining({ code: "InvalidConfig", message: expect.stringContaining('"falcon"') }),
    );
    expect(() => peftToGgufLora(adapter, { architecture: "llama" })).toThrow(
      expect.objectContaining({
        code: "InvalidConfig",
        message: expect.stringContaining("transformer.h.0.attn.c_attn"),
      }),
    );
  });
});

describe("head counts", () => {
  it("a llama file lowrank wrote stores them (llama.attention.head_count/_kv) and reads them back", () => {
    const adapter = small();
    const file = parseGguf(peftToGgufLora(adapter, { headCount: 2, headCountKv: 1 }).bytes);
    expect(file.getNumber("llama.attention.head_count")).toBe(2);
    expect(file.getNumber("llama.attention.head_count_kv")).toBe(1);
    const back = ggufLoraToPeft(file).adapter;
    expect(back.modules["model.layers.0.self_attn.q_proj"]).toEqual(adapter.modules["model.layers.0.self_attn.q_proj"]);
  });
});

describe("folding a per-module scale into lora_b rounds once", () => {
  // numpy: float16(1 + 2**-11 + 2**-30) is 0x3c01; through float32 first it is 0x3c00.
  const factor = 1 + 2 ** -11 + 2 ** -30;

  it("F32 B x factor -> F16 is rounded once from the exact product", () => {
    const adapter = small(
      { alpha_pattern: { v_proj: 4 * factor } },
      {
        "model.layers.0.self_attn.v_proj": { kind: "lora", A: f32([2, 8], () => 1), B: f32([4, 2], () => 1) },
      },
    );
    const file = parseGguf(peftToGgufLora(adapter, { dtype: "F16" }).bytes);
    const b = file.getTensor("blk.0.attn_v.weight.lora_b").data;
    expect(new DataView(b.buffer, b.byteOffset).getUint16(0, true)).toBe(0x3c01);
    const negative = small(
      { alpha_pattern: { v_proj: 4 * factor } },
      {
        "model.layers.0.self_attn.v_proj": { kind: "lora", A: f32([2, 8], () => 1), B: f32([4, 2], () => -1) },
      },
    );
    const nb = parseGguf(peftToGgufLora(negative, { dtype: "F16" }).bytes).getTensor("blk.0.attn_v.weight.lora_b").data;
    expect(new DataView(nb.buffer, nb.byteOffset).getUint16(0, true)).toBe(0xbc01);
  });
});

describe("what a GGUF LoRA cannot hold", () => {
  it("refuses lora_B.bias (lora_bias: true), as llama.cpp's converter does, rather than drop it", () => {
    const adapter = small({ lora_bias: true });
    adapter.modules["model.layers.0.self_attn.v_proj"]!.bias = f32([4], () => 0.5);
    expect(() => peftToGgufLora(adapter, { headCount: 2 })).toThrow(
      expect.objectContaining({ code: "InvalidConfig", message: expect.stringContaining("lora_B.bias") }),
    );
  });

  it("lora_alpha 0 (PEFT scale 0): the file never says alpha 0, which llama.cpp applies at full strength", () => {
    const zero = small({ lora_alpha: 0 });
    const out = peftToGgufLora(zero, { headCount: 2 });
    expect(out.warnings.join("\n")).toMatch(/lora_alpha is 0/);
    const file = parseGguf(out.bytes);
    const alpha = file.getNumber("adapter.lora.alpha") ?? 0;
    expect(alpha).not.toBe(0);
    // llama.cpp's scale alpha / r times the stored B: 0, as PEFT's.
    for (const t of ["blk.0.attn_q.weight.lora_b", "blk.0.attn_v.weight.lora_b"])
      expect([...floats(file.getTensor(t).data)].every((v) => v === 0)).toBe(true);
    // alpha_pattern still gives the other modules their own scale.
    const mixed = parseGguf(
      peftToGgufLora(small({ lora_alpha: 0, alpha_pattern: { v_proj: 8 } }), { headCount: 2 }).bytes,
    );
    const v = floats(mixed.getTensor("blk.0.attn_v.weight.lora_b").data);
    const orig = floats(small().modules["model.layers.0.self_attn.v_proj"]!.B.data);
    const a = mixed.getNumber("adapter.lora.alpha") as number;
    for (let i = 0; i < v.length; i++) expect((a / 2) * (v[i] as number)).toBeCloseTo((8 / 2) * (orig[i] as number), 6);
  });
});

describe("embedding LoRA on token_embd", () => {
  // fixtures/gguf-lora-gguf-py: written by llama.cpp's gguf-py as convert_lora_to_gguf.py lays it out.
  const file = parseGguf(new Uint8Array(readFileSync(fixturePath("gguf-lora-gguf-py", "llama-lora-embd-q-down.gguf"))));
  const values = (k: number, n: number) => new Float32Array(n).map((_, i) => (i + 100 * k) / 64);

  it("reads a llama.cpp-layout file: token_embd -> lora_embedding_A [r, vocab] / lora_embedding_B [dim, r]", () => {
    const { adapter, warnings } = ggufLoraToPeft(file, { headCount: 2 });
    expect(warnings).toEqual([]);
    const e = adapter.modules["model.embed_tokens"]!;
    expect(e.kind).toBe("embedding");
    expect([e.A.shape, e.B.shape]).toEqual([
      [2, 16],
      [8, 2],
    ]);
    expect(floats(e.A.data)).toEqual(values(0, 32));
    expect(floats(e.B.data)).toEqual(values(1, 16));
    const q = adapter.modules["model.layers.0.self_attn.q_proj"]!;
    expect(floats(q.A.data)).toEqual(values(2, 16));
    expect(floats(q.B.data)).toEqual(values(3, 16)); // the q permutation undone
    expect(floats(adapter.modules["model.layers.0.mlp.down_proj"]!.A.data)).toEqual(values(4, 24));
    expect(adapter.config).toMatchObject({
      r: 2,
      lora_alpha: 4,
      target_modules: ["down_proj", "embed_tokens", "q_proj"],
    });
  });

  it("writes it back with the same tensors, bytes and shapes (lora_a transposed, ne [r, vocab])", () => {
    const { adapter } = ggufLoraToPeft(file, { headCount: 2 });
    const ours = parseGguf(peftToGgufLora(adapter, { headCount: 2 }).bytes);
    expect(ours.tensors.map((t) => [t.name, t.dims])).toEqual(file.tensors.map((t) => [t.name, t.dims]));
    for (const t of file.tensors) expect(ours.getTensor(t.name).data, t.name).toEqual(file.getTensor(t.name).data);
  });
});
