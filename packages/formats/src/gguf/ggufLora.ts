import type { Dtype } from "../dtype.js";
import { decodeToFloat32, encodeFromFloat32 } from "../dtypeDecode.js";
import { FormatError } from "../errors.js";
import { dict } from "../peft/dict.js";
import type { PeftAdapter, PeftConfig, PeftModuleWeights } from "../peft/PeftAdapter.js";
import { parsePeftConfig, rankAndAlpha, serializePeftConfig } from "../peft/parsePeftConfig.js";
import type { Tensor } from "../safetensors/SafetensorsFile.js";
import type { GgufFile } from "./GgufFile.js";
import { ggmlTypeToDtype } from "./ggmlTypes.js";
import { ggufToHfModule, hfToGgufTensorName, LLAMA_MODULES, reorderRows, ropeRowOrder } from "./llamaNames.js";
import { type GgufTensorInput, serializeGguf } from "./serializeGguf.js";
import type { GgufValue } from "./types.js";

/** Our own metadata key (namespaced as the spec asks): the PEFT config, so PEFT -> GGUF -> PEFT keeps it. */
export const PEFT_CONFIG_KEY = "lowrank.peft_config";

export type GgufLoraDtype = "F32" | "F16" | "BF16";

export interface GgufLoraOptions {
  /** `general.architecture`, which llama.cpp compares with the base model's. Default `llama`. */
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

function recode(t: Tensor, dtype: GgufLoraDtype, factor = 1): Uint8Array {
  if (t.dtype === dtype && factor === 1) return t.data;
  const values = decodeToFloat32(t.dtype, t.data, { copy: true });
  if (factor !== 1) for (let i = 0; i < values.length; i++) values[i] = (values[i] as number) * factor;
  return encodeFromFloat32(dtype, values);
}

/** PEFT scale of `module` over the scale llama.cpp will apply (alpha / r with the file's one alpha). */
function foldFactor(module: string, config: PeftConfig, r: number): number {
  const { alpha } = rankAndAlpha(module, config);
  const wanted = config.use_rslora ? alpha / Math.sqrt(r) : alpha / r;
  const applied = config.lora_alpha / r;
  return applied === 0 ? 1 : wanted / applied;
}

function headsFor(kind: string, options: GgufLoraOptions, module: string): number {
  const heads = kind === "attn_k" ? (options.headCountKv ?? options.headCount) : options.headCount;
  if (!heads) {
    throw new FormatError(
      "InvalidConfig",
      `gguf lora: expected the base's head count to permute ${module} as llama.cpp does, found none (give headCount / headCountKv, or --base)`,
    );
  }
  return heads;
}

/**
 * A PEFT adapter as a GGUF LoRA that llama.cpp loads: `general.type=adapter`, `adapter.type=lora`,
 * `adapter.lora.alpha` (f32), tensors `blk.N.attn_q.weight.lora_a` (ne [in, r]) and `.lora_b`
 * (ne [r, out]), B's rows of q/k permuted for llama's RoPE layout exactly as convert_lora_to_gguf
 * does. GGUF holds one alpha: per-module alpha (alpha_pattern) and rsLoRA scales are folded into
 * B (a warning says so). Only Llama-family projection modules have GGUF names; others are refused.
 */
export function peftToGgufLora(
  adapter: PeftAdapter,
  options: GgufLoraOptions = {},
): { bytes: Uint8Array; warnings: string[] } {
  const architecture = options.architecture ?? "llama";
  const warnings: string[] = [];
  const config = adapter.config;
  const entries = Object.entries(adapter.modules).map(([module, w]) => {
    const name = hfToGgufTensorName(module);
    if (!name || w.kind !== "lora" || w.A.shape.length !== 2) {
      throw new FormatError(
        "InvalidConfig",
        `gguf lora: expected Llama-family projection modules (${LLAMA_MODULES.map(([h]) => h.split(".")[1]).join(", ")}), found ${module}${w.kind === "embedding" ? " (embedding)" : ""}`,
      );
    }
    return { module, name, w };
  });
  if (entries.length === 0)
    throw new FormatError("NoMatchingModules", "gguf lora: expected at least one LoRA module, found none");
  if (Object.keys(adapter.modulesToSave).length > 0)
    warnings.push(
      `modules_to_save (${Object.keys(adapter.modulesToSave).join(", ")}) cannot be stored in a GGUF LoRA and were dropped`,
    );
  if (Object.keys(adapter.otherTensors).length > 0)
    warnings.push(`${Object.keys(adapter.otherTensors).length} non-LoRA tensors were dropped`);
  entries.sort((a, b) => blockOrder(a.name) - blockOrder(b.name));
  const tensors: GgufTensorInput[] = [];
  let dtype: GgufLoraDtype | undefined = options.dtype;
  for (const { module, name, w } of entries) {
    const own = w.A.dtype === "F32" || w.A.dtype === "F16" || w.A.dtype === "BF16" ? w.A.dtype : "F32";
    dtype ??= own;
    const [r = 0, nIn = 0] = w.A.shape;
    const [nOut = 0] = w.B.shape;
    const factor = foldFactor(module, config, r);
    if (factor !== 1)
      warnings.push(`module ${module}: PEFT scale folded into lora_b (x${factor}) since GGUF holds one alpha`);
    let b = recode(w.B, dtype, factor);
    const kind = name.split(".")[2] as string;
    if (architecture === "llama" && (kind === "attn_q" || kind === "attn_k")) {
      b = reorderRows(b, nOut, ropeRowOrder(nOut, headsFor(kind, options, module)));
    }
    tensors.push({ name: `${name}.lora_a`, type: dtype, dims: [nIn, r], data: recode(w.A, dtype) });
    tensors.push({ name: `${name}.lora_b`, type: dtype, dims: [r, nOut], data: b });
  }
  const metadata = new Map<string, GgufValue>([
    ["general.architecture", { type: "string", value: architecture }],
    ["general.type", { type: "string", value: "adapter" }],
    ["adapter.type", { type: "string", value: "lora" }],
    ["adapter.lora.alpha", { type: "f32", value: config.lora_alpha }],
  ]);
  if (options.name) metadata.set("general.name", { type: "string", value: options.name });
  metadata.set("general.file_type", { type: "u32", value: FILE_TYPE[dtype ?? "F32"] });
  metadata.set("general.quantization_version", { type: "u32", value: 2 });
  // PEFT's own layout, so a config read back (defaults filled in) is stored again with the same bytes.
  metadata.set(PEFT_CONFIG_KEY, { type: "string", value: new TextDecoder().decode(serializePeftConfig(config)) });
  return { bytes: serializeGguf({ metadata, tensors }), warnings };
}

function blockOrder(name: string): number {
  const [, block = "0", kind = ""] = name.split(".");
  return Number(block) * 100 + LLAMA_MODULES.findIndex(([, g]) => g === kind);
}

/**
 * Reads a GGUF LoRA (as written by llama.cpp's convert_lora_to_gguf or by {@link peftToGgufLora})
 * back into a PEFT adapter with LlamaForCausalLM module names. The PEFT config comes from our own
 * metadata key when present, else is rebuilt: r (rank_pattern where ranks differ), lora_alpha,
 * target_modules from the tensors. Quantized LoRA tensors (Q8_0...) are refused.
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
  const architecture = file.getString("general.architecture") ?? "";
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
    const module = ggufToHfModule(base);
    if (!module)
      throw new FormatError(
        "InvalidGguf",
        `gguf lora: expected a Llama-family tensor name (blk.N.attn_q.weight...), found ${base}`,
      );
    const ta = file.getTensor(a);
    const tb = file.getTensor(b);
    const dtype = ggmlTypeToDtype(ta.info.type);
    if (!dtype || ta.info.type !== tb.info.type || ta.info.dims.length !== 2 || tb.info.dims.length !== 2) {
      throw new FormatError(
        "UnsupportedDtype",
        `gguf lora: expected 2-D F32/F16/BF16 factors for ${base}, found ${ta.info.type.name} [${ta.info.dims}] and ${tb.info.type.name} [${tb.info.dims}]`,
      );
    }
    const [nIn = 0, r = 0] = ta.info.dims;
    const [rb = 0, nOut = 0] = tb.info.dims;
    if (r !== rb)
      throw new FormatError(
        "ShapeMismatch",
        `gguf lora: expected ${a} ne [in, r] and ${b} ne [r, out] with the same r, found [${ta.info.dims}] and [${tb.info.dims}]`,
      );
    let bData: Uint8Array = tb.data.slice();
    const kind = base.split(".")[2] as string;
    if (architecture === "llama" && (kind === "attn_q" || kind === "attn_k")) {
      bData = reorderRows(bData, nOut, ropeRowOrder(nOut, headsFor(kind, options, module), true));
    }
    if (config) {
      const factor = foldFactor(module, config, r);
      if (factor !== 1)
        bData = encodeFromFloat32(
          dtype as GgufLoraDtype,
          decodeToFloat32(dtype, bData, { copy: true }).map((v) => v / factor),
        );
    }
    modules[module] = {
      kind: "lora",
      A: { dtype, shape: [r, nIn], data: ta.data.slice() },
      B: { dtype: dtype as Dtype, shape: [nOut, r], data: bData },
    };
    ranks.set(module, r);
  }
  if (!config) {
    config = rebuildConfig(ranks, alpha, file.getString("general.name"));
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

function rebuildConfig(ranks: Map<string, number>, alpha: number, name: string | undefined): PeftConfig {
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
  return {
    peft_type: "LORA",
    r,
    lora_alpha: alpha === 0 ? r : alpha,
    target_modules: targets,
    fan_in_fan_out: false,
    rank_pattern: rankPattern,
    alpha_pattern: alphaPattern,
    modules_to_save: null,
    use_rslora: false,
    base_model_name_or_path: name ?? null,
    task_type: "CAUSAL_LM",
    bias: "none",
    lora_dropout: 0,
    inference_mode: true,
  };
}
