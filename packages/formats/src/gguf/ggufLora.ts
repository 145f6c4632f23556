import type { Dtype } from "../dtype.js";
import { decodeToFloat32 } from "../dtypeDecode.js";
import { encodeRounded } from "../dtypeRound.js";
import { FormatError } from "../errors.js";
import { dict } from "../peft/dict.js";
import type { PeftAdapter, PeftConfig, PeftModuleWeights } from "../peft/PeftAdapter.js";
import { loraScale, parsePeftConfig, serializePeftConfig } from "../peft/parsePeftConfig.js";
import type { Tensor } from "../safetensors/SafetensorsFile.js";
import type { GgufFile } from "./GgufFile.js";
import { ggmlTypeToDtype } from "./ggmlTypes.js";
import {
  describeGgufArchitecture,
  GGUF_LORA_ARCHITECTURE_NAMES,
  GGUF_LORA_ARCHITECTURES,
  type GgufLoraArchitecture,
  type GgufModuleName,
  ggufToModule,
  inferGgufArchitecture,
  isGgufLoraArchitecture,
  moduleToGguf,
  TOKEN_EMBD,
} from "./ggufNames.js";
import { reorderRows, ropeRowOrder } from "./llamaNames.js";
import { type GgufTensorInput, serializeGguf } from "./serializeGguf.js";
import type { GgufValue } from "./types.js";

/** Our own metadata key (namespaced as the spec asks): the PEFT config, so PEFT -> GGUF -> PEFT keeps it. */
export const PEFT_CONFIG_KEY = "lowrank.peft_config";
/** Our own metadata key: the prefix of the module names (`model.`, `transformer.`, `bert.`, ``). */
export const MODULE_PREFIX_KEY = "lowrank.module_prefix";

export type GgufLoraDtype = "F32" | "F16" | "BF16";

export interface GgufLoraOptions {
  /**
   * `general.architecture`, which llama.cpp compares with the base model's: `llama`, `qwen2`, `gpt2`
   * or `bert`. Default: the one whose names cover the adapter's modules (`llama` for Llama-style names).
   */
  architecture?: string;
  /** Attention heads (q_proj) and KV heads (k_proj) of the base: needed for llama's q/k row permutation. */
  headCount?: number;
  headCountKv?: number;
  /** Element type of the LoRA tensors; default: the adapter's own when F32/F16/BF16, else F32. */
  dtype?: GgufLoraDtype;
  /** `general.name`. */
  name?: string;
}

const FILE_TYPE: Record<GgufLoraDtype, number> = { F32: 0, F16: 1, BF16: 32 }; // llama_ftype ALL_F32, MOSTLY_F16, MOSTLY_BF16

/** Values of a float tensor as doubles (exact for F16, BF16, F32 and F64). */
function values(t: Tensor): ArrayLike<number> {
  if (t.dtype === "F64") return new Float64Array(t.data.slice().buffer);
  return decodeToFloat32(t.dtype, t.data, { copy: true });
}

/** `t` as `dtype`, multiplied by `factor` in double precision and rounded once. */
function recode(t: Tensor, dtype: GgufLoraDtype, factor = 1): Uint8Array {
  if (t.dtype === dtype && factor === 1) return t.data;
  const v = values(t);
  const out = new Float64Array(v.length);
  // factor 0 (PEFT scale 0) writes +0, not -0 for negative values.
  if (factor !== 0) for (let i = 0; i < v.length; i++) out[i] = (v[i] as number) * factor;
  return encodeRounded(dtype, out);
}

/** Bytes of a row-major [rows, cols] matrix of `size`-byte elements, transposed. */
function transposeBytes(data: Uint8Array, rows: number, cols: number, size: number): Uint8Array {
  const out = new Uint8Array(data.length);
  for (let i = 0; i < rows; i++)
    for (let j = 0; j < cols; j++)
      out.set(data.subarray((i * cols + j) * size, (i * cols + j + 1) * size), (j * rows + i) * size);
  return out;
}

/**
 * PEFT's scale of `module` over the scale llama.cpp applies with the file's one alpha (alpha / r,
 * r the module's rank): what B is multiplied by so llama.cpp computes what PEFT does.
 */
function foldFactor(module: string, config: PeftConfig, r: number, fileAlpha: number): number {
  return (loraScale(module, config) * r) / fileAlpha;
}

/** The alpha the file holds: lora_alpha, or r when lora_alpha is 0 (llama.cpp reads alpha 0 as "no alpha", scale 1). */
function fileAlphaOf(config: PeftConfig): number {
  return config.lora_alpha !== 0 ? config.lora_alpha : config.r > 0 ? config.r : 1;
}

function headsFor(kind: string, heads: { headCount?: number; headCountKv?: number }, module: string): number {
  const n = kind === "attn_k" ? (heads.headCountKv ?? heads.headCount) : heads.headCount;
  if (!n) {
    throw new FormatError(
      "InvalidConfig",
      `gguf lora: expected the base's head count to permute ${module} as llama.cpp does, found none (give headCount / headCountKv, or --base)`,
    );
  }
  return n;
}

function architectureOf(adapter: PeftAdapter, requested: string | undefined): GgufLoraArchitecture {
  if (requested === undefined) return inferGgufArchitecture(Object.keys(adapter.modules)) ?? "llama";
  if (isGgufLoraArchitecture(requested)) return requested;
  throw new FormatError(
    "InvalidConfig",
    `gguf lora: expected architecture ${GGUF_LORA_ARCHITECTURE_NAMES.join(", ")} (those whose llama.cpp tensor names lowrank knows), found ${JSON.stringify(requested)}`,
  );
}

/**
 * A PEFT adapter as a GGUF LoRA that llama.cpp loads: `general.type=adapter`, `adapter.type=lora`,
 * `adapter.lora.alpha` (f32), tensors `blk.N.<kind>.weight.lora_a` (ne [in, r]) and `.lora_b`
 * (ne [r, out]), named as llama.cpp names them for llama, qwen2, gpt2 and bert; an embedding LoRA
 * becomes `token_embd.weight.lora_a` (ne [r, vocab]) / `.lora_b` (ne [r, dim]), as llama.cpp's
 * converter writes it. For llama, B's rows of q/k are permuted for its RoPE layout (the head counts
 * are stored under `llama.attention.head_count(_kv)`). GGUF holds one alpha: per-module alpha
 * (alpha_pattern) and rsLoRA scales are folded into B (scaled in double precision, rounded once;
 * a warning says so); lora_alpha 0 (PEFT scale 0), which llama.cpp would read as full strength, is
 * folded the same way. Refused: modules without a llama.cpp name, conv LoRA, and `lora_B.bias`.
 */
export function peftToGgufLora(
  adapter: PeftAdapter,
  options: GgufLoraOptions = {},
): { bytes: Uint8Array; warnings: string[] } {
  const arch = architectureOf(adapter, options.architecture);
  const table = GGUF_LORA_ARCHITECTURES[arch];
  const warnings: string[] = [];
  const config = adapter.config;
  const entries = Object.entries(adapter.modules).map(([module, w]) => {
    const gguf = moduleToGguf(module, arch);
    const embedding = gguf?.kind === "token_embd";
    if (!gguf || w.A.shape.length !== 2 || (w.kind === "embedding") !== embedding) {
      throw new FormatError(
        "InvalidConfig",
        `gguf lora: expected ${arch} modules llama.cpp has a LoRA name for (${describeGgufArchitecture(arch)}; the embedding as an embedding LoRA, others as 2-D linear LoRA), found ${module}${w.kind === "embedding" ? " (embedding)" : w.A.shape.length !== 2 ? ` (${w.A.shape.length}-D)` : ""}`,
      );
    }
    if (w.bias) {
      throw new FormatError(
        "InvalidConfig",
        `gguf lora: expected no lora_B.bias (lora_bias: true) since a GGUF LoRA cannot hold it and dropping it would change the adapter's output (llama.cpp's converter refuses it too), found one on ${module}`,
      );
    }
    return { module, gguf, w };
  });
  if (entries.length === 0)
    throw new FormatError("NoMatchingModules", "gguf lora: expected at least one LoRA module, found none");
  if (Object.keys(adapter.modulesToSave).length > 0)
    warnings.push(
      `modules_to_save (${Object.keys(adapter.modulesToSave).join(", ")}) cannot be stored in a GGUF LoRA and were dropped`,
    );
  if (Object.keys(adapter.otherTensors).length > 0)
    warnings.push(`${Object.keys(adapter.otherTensors).length} non-LoRA tensors were dropped`);
  const fileAlpha = fileAlphaOf(config);
  if (config.lora_alpha === 0)
    warnings.push(
      `lora_alpha is 0 (PEFT scale 0) but llama.cpp reads adapter.lora.alpha 0 as full strength: the file holds alpha ${fileAlpha} and each module's scale is folded into lora_b`,
    );
  entries.sort((a, b) => order(a.gguf, table) - order(b.gguf, table));
  const tensors: GgufTensorInput[] = [];
  let dtype: GgufLoraDtype | undefined = options.dtype;
  let permuted = false;
  for (const { module, gguf, w } of entries) {
    const own = w.A.dtype === "F32" || w.A.dtype === "F16" || w.A.dtype === "BF16" ? w.A.dtype : "F32";
    dtype ??= own;
    const [r = 0, nIn = 0] = w.A.shape;
    const [nOut = 0] = w.B.shape;
    const factor = foldFactor(module, config, r, fileAlpha);
    if (factor !== 1)
      warnings.push(`module ${module}: PEFT scale folded into lora_b (x${factor}) since GGUF holds one alpha`);
    let b = recode(w.B, dtype, factor);
    let a = recode(w.A, dtype);
    if (gguf.kind === "token_embd") {
      // llama.cpp gathers rows of lora_a by token id: lora_a is A transposed, ne [r, vocab].
      a = transposeBytes(a, r, nIn, dtype === "F32" ? 4 : 2);
      tensors.push({ name: `${gguf.name}.lora_a`, type: dtype, dims: [r, nIn], data: a });
      tensors.push({ name: `${gguf.name}.lora_b`, type: dtype, dims: [r, nOut], data: b });
      continue;
    }
    if (table.ropePermute && (gguf.kind === "attn_q" || gguf.kind === "attn_k")) {
      b = reorderRows(b, nOut, ropeRowOrder(nOut, headsFor(gguf.kind, options, module)));
      permuted = true;
    }
    tensors.push({ name: `${gguf.name}.lora_a`, type: dtype, dims: [nIn, r], data: a });
    tensors.push({ name: `${gguf.name}.lora_b`, type: dtype, dims: [r, nOut], data: b });
  }
  const metadata = new Map<string, GgufValue>([
    ["general.architecture", { type: "string", value: arch }],
    ["general.type", { type: "string", value: "adapter" }],
    ["adapter.type", { type: "string", value: "lora" }],
    ["adapter.lora.alpha", { type: "f32", value: fileAlpha }],
  ]);
  if (options.name) metadata.set("general.name", { type: "string", value: options.name });
  metadata.set("general.file_type", { type: "u32", value: FILE_TYPE[dtype ?? "F32"] });
  metadata.set("general.quantization_version", { type: "u32", value: 2 });
  if (permuted && options.headCount) {
    metadata.set(`${arch}.attention.head_count`, { type: "u32", value: options.headCount });
    metadata.set(`${arch}.attention.head_count_kv`, {
      type: "u32",
      value: options.headCountKv ?? options.headCount,
    });
  }
  // PEFT's own layout, so a config read back (defaults filled in) is stored again with the same bytes.
  metadata.set(PEFT_CONFIG_KEY, { type: "string", value: new TextDecoder().decode(serializePeftConfig(config)) });
  metadata.set(MODULE_PREFIX_KEY, { type: "string", value: entries[0]?.gguf.prefix ?? table.prefix });
  return { bytes: serializeGguf({ metadata, tensors }), warnings };
}

function order(g: GgufModuleName, table: (typeof GGUF_LORA_ARCHITECTURES)[GgufLoraArchitecture]): number {
  if (g.block === null) return -1;
  return g.block * 100 + table.modules.findIndex(([, k]) => k === g.kind);
}

/**
 * A base's attention head counts from its Hugging Face `config.json`, for {@link ggufLoraToPeft}:
 * llama.cpp permutes llama's q/k rows for RoPE and its converter does not store the counts in the
 * adapter file. `num_key_value_heads` defaults to `num_attention_heads`, as in transformers; a count
 * that is not a positive integer is left out.
 */
export function ggufHeadCounts(config: Readonly<Record<string, unknown>>): {
  headCount?: number;
  headCountKv?: number;
} {
  const count = (v: unknown) => (typeof v === "number" && Number.isInteger(v) && v > 0 ? v : undefined);
  const headCount = count(config.num_attention_heads);
  return { headCount, headCountKv: count(config.num_key_value_heads) ?? headCount };
}

/**
 * Reads a GGUF LoRA (as written by llama.cpp's convert_lora_to_gguf or by {@link peftToGgufLora})
 * back into a PEFT adapter with Hugging Face module names of its architecture (`model.layers.N...`
 * for llama and qwen2, `transformer.h.N...` for gpt2, `bert.encoder.layer.N...` for bert; the
 * prefix lowrank stored when it wrote the file). `token_embd` becomes an embedding LoRA
 * (`lora_embedding_A` [r, vocab], `lora_embedding_B` [dim, r]). The PEFT config comes from our own
 * metadata key when present, else is rebuilt: r (rank_pattern where ranks differ), lora_alpha,
 * target_modules from the tensors. Head counts for llama's q/k come from the options, else from
 * `llama.attention.head_count(_kv)` in the file. Quantized LoRA tensors (Q8_0...) are refused.
 */
export function ggufLoraToPeft(
  file: GgufFile,
  options: Pick<GgufLoraOptions, "headCount" | "headCountKv"> = {},
): { adapter: PeftAdapter; warnings: string[] } {
  const warnings: string[] = [];
  if (file.getString("general.type") !== "adapter" || file.getString("adapter.type") !== "lora") {
    throw new FormatError(
      "InvalidGguf",
      `gguf lora: expected general.type "adapter" and adapter.type "lora", found ${JSON.stringify(file.getString("general.type") ?? null)} and ${JSON.stringify(file.getString("adapter.type") ?? null)}`,
    );
  }
  const archName = file.getString("general.architecture") ?? "";
  if (!isGgufLoraArchitecture(archName))
    throw new FormatError(
      "InvalidGguf",
      `gguf lora: expected general.architecture ${GGUF_LORA_ARCHITECTURE_NAMES.join(", ")} (those whose llama.cpp tensor names lowrank knows), found ${JSON.stringify(archName)}`,
    );
  const arch: GgufLoraArchitecture = archName;
  const table = GGUF_LORA_ARCHITECTURES[arch];
  const prefix = file.getString(MODULE_PREFIX_KEY) ?? table.prefix;
  const heads = {
    headCount: options.headCount ?? file.getNumber(`${arch}.attention.head_count`),
    headCountKv: options.headCountKv ?? file.getNumber(`${arch}.attention.head_count_kv`),
  };
  const alpha = file.getNumber("adapter.lora.alpha") ?? 0;
  const halves = new Map<string, { a?: string; b?: string }>();
  for (const t of file.tensors) {
    const m = /^(.+)\.lora_([ab])$/.exec(t.name);
    if (!m) {
      if (t.name.endsWith("_norm.weight")) {
        warnings.push(`${t.name}: norm tensor ignored (llama.cpp ignores it too)`);
        continue;
      }
      throw new FormatError(
        "InvalidGguf",
        `gguf lora: expected tensors named <base>.lora_a / .lora_b, found ${t.name}`,
      );
    }
    const slot = halves.get(m[1] as string) ?? {};
    slot[m[2] as "a" | "b"] = t.name;
    halves.set(m[1] as string, slot);
  }
  const stored = file.getString(PEFT_CONFIG_KEY);
  let config: PeftConfig | undefined;
  if (stored !== undefined) config = parsePeftConfig(stored).config;
  const modules = dict<PeftModuleWeights>();
  const ranks = new Map<string, number>();
  for (const [base, { a, b }] of halves) {
    if (!a || !b)
      throw new FormatError(
        "InvalidGguf",
        `gguf lora: expected both ${base}.lora_a and .lora_b, found only lora_${a ? "a" : "b"}`,
      );
    const named = ggufToModule(base, arch, prefix);
    if (!named)
      throw new FormatError(
        "InvalidGguf",
        `gguf lora: expected a ${arch} tensor name llama.cpp gives a LoRA (blk.N.<${table.modules.map(([, g]) => g).join("|")}>.weight or ${TOKEN_EMBD}), found ${base}`,
      );
    const { module, kind } = named;
    const ta = file.getTensor(a);
    const tb = file.getTensor(b);
    const dtype = ggmlTypeToDtype(ta.info.type);
    if (!dtype || ta.info.type !== tb.info.type || ta.info.dims.length !== 2 || tb.info.dims.length !== 2) {
      throw new FormatError(
        "UnsupportedDtype",
        `gguf lora: expected 2-D F32/F16/BF16 factors for ${base}, found ${ta.info.type.name} [${ta.info.dims}] and ${tb.info.type.name} [${tb.info.dims}]`,
      );
    }
    const embedding = kind === "token_embd";
    // ne of lora_a: [in, r] (token_embd: [r, vocab]); of lora_b: [r, out].
    const [r = 0, nIn = 0] = embedding ? ta.info.dims : [ta.info.dims[1], ta.info.dims[0]];
    const [rb = 0, nOut = 0] = tb.info.dims;
    if (r !== rb)
      throw new FormatError(
        "ShapeMismatch",
        `gguf lora: expected ${a} ne ${embedding ? "[r, vocab]" : "[in, r]"} and ${b} ne [r, out] with the same r, found [${ta.info.dims}] and [${tb.info.dims}]`,
      );
    let aData: Uint8Array = ta.data.slice();
    if (embedding) aData = transposeBytes(aData, nIn, r, aData.length / (nIn * r || 1));
    let bData: Uint8Array = tb.data.slice();
    if (table.ropePermute && (kind === "attn_q" || kind === "attn_k")) {
      bData = reorderRows(bData, nOut, ropeRowOrder(nOut, headsFor(kind, heads, module), true));
    }
    if (config) {
      const factor = foldFactor(module, config, r, fileAlphaOf(config));
      if (factor !== 1 && factor !== 0 && Number.isFinite(factor)) {
        const v = decodeToFloat32(dtype, bData, { copy: true });
        const out = new Float64Array(v.length);
        for (let i = 0; i < v.length; i++) out[i] = (v[i] as number) / factor;
        bData = encodeRounded(dtype as GgufLoraDtype, out);
      }
    }
    modules[module] = {
      kind: embedding ? "embedding" : "lora",
      A: { dtype, shape: [r, nIn], data: aData },
      B: { dtype: dtype as Dtype, shape: [nOut, r], data: bData },
    };
    ranks.set(module, r);
  }
  if (!config) {
    config = rebuildConfig(ranks, alpha, file.getString("general.name"), arch);
    if (alpha === 0)
      warnings.push(
        "adapter.lora.alpha is 0 or missing: llama.cpp then applies scale 1, so lora_alpha is set to each module's rank",
      );
  }
  return {
    adapter: { config, modules, modulesToSave: {}, otherTensors: {}, metadata: { format: "pt" }, modelCard: null },
    warnings,
  };
}

function rebuildConfig(
  ranks: Map<string, number>,
  alpha: number,
  name: string | undefined,
  arch: GgufLoraArchitecture,
): PeftConfig {
  const counts = new Map<number, number>();
  for (const r of ranks.values()) counts.set(r, (counts.get(r) ?? 0) + 1);
  const r = [...counts].sort((x, y) => y[1] - x[1] || x[0] - y[0])[0]?.[0] ?? 8;
  const rankPattern = dict<number>();
  const alphaPattern = dict<number>();
  for (const [module, mr] of ranks) {
    if (mr !== r) rankPattern[module] = mr;
    if (alpha === 0 && mr !== r) alphaPattern[module] = mr;
  }
  const targets = [...new Set([...ranks.keys()].map((m) => m.split(".").pop() as string))].sort();
  const table = GGUF_LORA_ARCHITECTURES[arch];
  return {
    peft_type: "LORA",
    r,
    lora_alpha: alpha === 0 ? r : alpha,
    target_modules: targets,
    fan_in_fan_out: table.fanInFanOut,
    rank_pattern: rankPattern,
    alpha_pattern: alphaPattern,
    modules_to_save: null,
    use_rslora: false,
    base_model_name_or_path: name ?? null,
    task_type: table.taskType,
    bias: "none",
    lora_dropout: 0,
    inference_mode: true,
  };
}
