import { readFileSync } from "node:fs";
import { fixturePath } from "@lowrank/vitest-config/fixtures";
import { describe, expect, it } from "vitest";
import type { PeftAdapter, PeftConfig } from "../peft/PeftAdapter.js";
import { parsePeftConfig } from "../peft/parsePeftConfig.js";
import { parseGguf } from "./GgufFile.js";
import { ggufHeadCounts, ggufLoraToPeft, PEFT_CONFIG_KEY, peftToGgufLora } from "./ggufLora.js";
import { serializeGguf } from "./serializeGguf.js";

const HIDDEN = 16;
const HEADS = 4;
const KV = 2;
const HEAD_DIM = HIDDEN / HEADS;
const INNER = 24;
const R = 4;

let seed = 7;
function rand(): number {
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
  return seed / 2 ** 31 - 0.5;
}
function f32(shape: number[]) {
  const v = new Float32Array(shape[0]! * shape[1]!).map(rand);
  return { dtype: "F32" as const, shape, data: new Uint8Array(v.buffer) };
}
const floats = (b: Uint8Array) => new Float32Array(b.slice().buffer);

function llamaAdapter(config: Partial<PeftConfig> = {}): PeftAdapter {
  const dims: Record<string, [number, number]> = {
    "self_attn.q_proj": [HIDDEN, HIDDEN],
    "self_attn.k_proj": [HIDDEN, KV * HEAD_DIM],
    "self_attn.v_proj": [HIDDEN, KV * HEAD_DIM],
    "self_attn.o_proj": [HIDDEN, HIDDEN],
    "mlp.gate_proj": [HIDDEN, INNER],
    "mlp.up_proj": [HIDDEN, INNER],
    "mlp.down_proj": [INNER, HIDDEN],
  };
  const modules: PeftAdapter["modules"] = {};
  for (let l = 0; l < 2; l++) {
    for (const [m, [nIn, nOut]] of Object.entries(dims))
      modules[`model.layers.${l}.${m}`] = { kind: "lora", A: f32([R, nIn]), B: f32([nOut, R]) };
  }
  return {
    config: {
      peft_type: "LORA",
      r: R,
      lora_alpha: 8,
      target_modules: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
      fan_in_fan_out: false,
      rank_pattern: {},
      alpha_pattern: {},
      modules_to_save: null,
      use_rslora: false,
      base_model_name_or_path: "tiny-llama",
      task_type: "CAUSAL_LM",
      ...config,
    },
    modules,
    modulesToSave: {},
    otherTensors: {},
    metadata: { format: "pt" },
    modelCard: null,
  };
}

/** numpy's reshape(n_head, 2, hd/2, r).swapaxes(1, 2).reshape(out, r), written as index arithmetic. */
function permuteReference(b: Float32Array, out: number, r: number, heads: number): Float32Array {
  const hd = out / heads;
  const res = new Float32Array(b.length);
  for (let h = 0; h < heads; h++)
    for (let a = 0; a < 2; a++)
      for (let i = 0; i < hd / 2; i++)
        for (let c = 0; c < r; c++)
          res[((h * (hd / 2) + i) * 2 + a) * r + c] = b[((h * 2 + a) * (hd / 2) + i) * r + c] as number;
  return res;
}

describe("ggufHeadCounts", () => {
  it("reads num_attention_heads and num_key_value_heads (defaulting to the former), leaving out bad counts", () => {
    expect(ggufHeadCounts({ num_attention_heads: 32, num_key_value_heads: 8 })).toEqual({
      headCount: 32,
      headCountKv: 8,
    });
    expect(ggufHeadCounts({ num_attention_heads: 12 })).toEqual({ headCount: 12, headCountKv: 12 });
    for (const bad of [{}, { num_attention_heads: 0 }, { num_attention_heads: 2.5 }, { num_attention_heads: "12" }])
      expect(ggufHeadCounts(bad)).toEqual({ headCount: undefined, headCountKv: undefined });
    expect(ggufHeadCounts({ num_attention_heads: -4, num_key_value_heads: 2 })).toEqual({
      headCount: undefined,
      headCountKv: 2,
    });
  });
});

describe("PEFT -> GGUF LoRA (llama.cpp's layout)", () => {
  const adapter = llamaAdapter();
  const { bytes, warnings } = peftToGgufLora(adapter, { headCount: HEADS, headCountKv: KV });
  const file = parseGguf(bytes);

  it("writes the keys llama.cpp requires", () => {
    expect(warnings).toEqual([]);
    expect(file.getString("general.type")).toBe("adapter");
    expect(file.getString("adapter.type")).toBe("lora");
    expect(file.getString("general.architecture")).toBe("llama");
    expect(file.metadata.get("adapter.lora.alpha")).toEqual({ type: "f32", value: 8 });
    expect(file.getNumber("general.file_type")).toBe(0);
  });

  it("names tensors blk.N.<kind>.weight.lora_a/b with ne [in, r] and [r, out], A bytes unchanged", () => {
    expect(file.tensors).toHaveLength(28);
    expect(file.tensors.slice(0, 4).map((t) => t.name)).toEqual([
      "blk.0.attn_q.weight.lora_a",
      "blk.0.attn_q.weight.lora_b",
      "blk.0.attn_k.weight.lora_a",
      "blk.0.attn_k.weight.lora_b",
    ]);
    const a = file.getTensor("blk.1.ffn_down.weight.lora_a");
    expect(a.info.dims).toEqual([INNER, R]);
    expect(file.getTensor("blk.1.ffn_down.weight.lora_b").info.dims).toEqual([R, HIDDEN]);
    expect(file.getTensor("blk.0.attn_k.weight.lora_b").info.dims).toEqual([R, KV * HEAD_DIM]);
    expect(a.data).toEqual(adapter.modules["model.layers.1.mlp.down_proj"]?.A.data);
    expect(file.getTensor("blk.0.attn_v.weight.lora_b").data).toEqual(
      adapter.modules["model.layers.0.self_attn.v_proj"]?.B.data,
    );
  });

  it("permutes B's rows of q (n_head) and k (n_head_kv) as convert_hf_to_gguf's LlamaModel.permute", () => {
    const q = adapter.modules["model.layers.0.self_attn.q_proj"]!.B;
    expect(floats(file.getTensor("blk.0.attn_q.weight.lora_b").data)).toEqual(
      permuteReference(floats(q.data), HIDDEN, R, HEADS),
    );
    const k = adapter.modules["model.layers.1.self_attn.k_proj"]!.B;
    expect(floats(file.getTensor("blk.1.attn_k.weight.lora_b").data)).toEqual(
      permuteReference(floats(k.data), KV * HEAD_DIM, R, KV),
    );
  });

  it("round-trips GGUF -> PEFT exactly (config kept in lowrank.peft_config)", () => {
    const back = ggufLoraToPeft(file, { headCount: HEADS, headCountKv: KV });
    expect(back.warnings).toEqual([]);
    // The stored config is read back through parsePeftConfig, which fills PEFT's defaults.
    expect(back.adapter.config).toEqual(parsePeftConfig(adapter.config).config);
    expect(Object.keys(back.adapter.modules).sort()).toEqual(Object.keys(adapter.modules).sort());
    for (const [m, w] of Object.entries(adapter.modules)) {
      expect(back.adapter.modules[m]?.A, m).toEqual(w.A);
      expect(back.adapter.modules[m]?.B, m).toEqual(w.B);
    }
    // Deterministic: the same adapter gives the same bytes.
    expect(peftToGgufLora(back.adapter, { headCount: HEADS, headCountKv: KV }).bytes).toEqual(bytes);
  });

  it("rebuilds a config from a file without our key (as llama.cpp's converter writes them)", () => {
    const metadata = new Map(file.metadata);
    metadata.delete(PEFT_CONFIG_KEY);
    const plain = serializeGguf({
      metadata,
      tensors: file.tensors.map((t) => ({
        name: t.name,
        type: t.type.name,
        dims: t.dims,
        data: file.getTensor(t.name).data,
      })),
    });
    const { adapter: back } = ggufLoraToPeft(parseGguf(plain), { headCount: HEADS, headCountKv: KV });
    // The base's config.json gives the same counts (llama.cpp's converter does not store them in the file).
    const counts = ggufHeadCounts({ num_attention_heads: HEADS, num_key_value_heads: KV, hidden_size: 16 });
    expect(counts).toEqual({ headCount: HEADS, headCountKv: KV });
    expect(ggufLoraToPeft(parseGguf(plain), counts).adapter).toEqual(back);
    expect(back.config).toMatchObject({
      r: R,
      lora_alpha: 8,
      rank_pattern: {},
      target_modules: ["down_proj", "gate_proj", "k_proj", "o_proj", "q_proj", "up_proj", "v_proj"],
    });
    expect(back.modules["model.layers.0.self_attn.q_proj"]?.B).toEqual(
      adapter.modules["model.layers.0.self_attn.q_proj"]?.B,
    );
  });

  it("folds alpha_pattern into B so llama.cpp's one alpha gives PEFT's scale, and unfolds on the way back", () => {
    const withPattern = llamaAdapter({ alpha_pattern: { v_proj: 32 } });
    const out = parseGguf(peftToGgufLora(withPattern, { headCount: HEADS, headCountKv: KV }).bytes);
    const orig = floats(withPattern.modules["model.layers.0.self_attn.v_proj"]!.B.data);
    const stored = floats(out.getTensor("blk.0.attn_v.weight.lora_b").data);
    // llama.cpp: scale = alpha / r = 8 / 4; PEFT: 32 / 4. So stored B = 4 x original.
    for (let i = 0; i < orig.length; i++)
      expect((8 / R) * (stored[i] as number)).toBeCloseTo((32 / R) * (orig[i] as number), 6);
    const back = ggufLoraToPeft(out, { headCount: HEADS, headCountKv: KV }).adapter;
    expect(floats(back.modules["model.layers.0.self_attn.v_proj"]!.B.data)).toEqual(orig);
  });

  it("writes F16 when asked (file_type 1)", () => {
    const f16 = parseGguf(peftToGgufLora(adapter, { headCount: HEADS, headCountKv: KV, dtype: "F16" }).bytes);
    expect(f16.tensors.every((t) => t.type.name === "F16")).toBe(true);
    expect(f16.getNumber("general.file_type")).toBe(1);
    const back = ggufLoraToPeft(f16, { headCount: HEADS, headCountKv: KV }).adapter;
    const a = floats(adapter.modules["model.layers.0.mlp.up_proj"]!.A.data);
    const b = back.modules["model.layers.0.mlp.up_proj"]!.A;
    expect(b.dtype).toBe("F16");
    const view = new DataView(b.data.buffer, b.data.byteOffset);
    // F16 keeps ~3 decimal digits for values in [-0.5, 0.5].
    for (let i = 0; i < a.length; i++)
      expect(Math.abs(halfToFloat(view.getUint16(2 * i, true)) - (a[i] as number))).toBeLessThan(3e-4);
  });

  it("refuses modules llama.cpp has no LoRA name for, missing head counts, and non-adapter GGUFs", () => {
    const gpt2 = llamaAdapter();
    gpt2.modules = { "transformer.h.0.attn.c_attn": gpt2.modules["model.layers.0.mlp.up_proj"]! };
    expect(() => peftToGgufLora(gpt2, { architecture: "llama" })).toThrow(
      expect.objectContaining({ code: "InvalidConfig" }),
    );
    expect(() => peftToGgufLora(adapter)).toThrow(expect.objectContaining({ code: "InvalidConfig" }));
    const model = parseGguf(
      new Uint8Array(readFileSync(fixturePath("gguf-llama2-tiny-random", "llama-2-tiny-random.gguf"))),
    );
    expect(() => ggufLoraToPeft(model)).toThrow(expect.objectContaining({ code: "InvalidGguf" }));
  });
});

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  return s * 2 ** (e - 15) * (1 + f / 1024);
}
