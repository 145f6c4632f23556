/**
 * Hugging Face module names <-> llama.cpp tensor names for the architectures lowrank writes GGUF
 * LoRAs for (names as in llama.cpp's `gguf-py/gguf/tensor_mapping.py`).
 */
import { LLAMA_MODULES } from "./llamaNames.js";

export type GgufLoraArchitecture = "llama" | "qwen2" | "gpt2" | "bert";

export interface GgufArchitectureNames {
  /** Prefix of the Hugging Face class PEFT usually wraps (`model.` of LlamaForCausalLM...): used when reading. */
  readonly prefix: string;
  /** The module path of the repeated blocks (`layers`, `h`, `encoder.layer`). */
  readonly block: string;
  /** Module inside a block -> llama.cpp tensor kind (`blk.N.<kind>.weight`). */
  readonly modules: ReadonlyArray<readonly [hf: string, gguf: string]>;
  /** The token embedding module (llama.cpp `token_embd`). */
  readonly embedding: string;
  /** Whether llama.cpp's converter permutes q/k rows for its RoPE layout (LlamaModel.permute). */
  readonly ropePermute: boolean;
  /** PEFT's `fan_in_fan_out` for the base's linear layers (GPT-2's Conv1D stores [in, out]). */
  readonly fanInFanOut: boolean;
  readonly taskType: string | null;
}

/** The Llama-family block modules, from the one table in llamaNames.ts. */
const LLAMA_BLOCK: GgufArchitectureNames["modules"] = LLAMA_MODULES;

export const GGUF_LORA_ARCHITECTURES: Readonly<Record<GgufLoraArchitecture, GgufArchitectureNames>> = {
  llama: {
    prefix: "model.",
    block: "layers",
    modules: LLAMA_BLOCK,
    embedding: "embed_tokens",
    ropePermute: true,
    fanInFanOut: false,
    taskType: "CAUSAL_LM",
  },
  // Qwen2 uses llama.cpp's NEOX rope, which has Hugging Face's row order: no permutation.
  qwen2: {
    prefix: "model.",
    block: "layers",
    modules: LLAMA_BLOCK,
    embedding: "embed_tokens",
    ropePermute: false,
    fanInFanOut: false,
    taskType: "CAUSAL_LM",
  },
  gpt2: {
    prefix: "transformer.",
    block: "h",
    modules: [
      ["attn.c_attn", "attn_qkv"],
      ["attn.c_proj", "attn_output"],
      ["mlp.c_fc", "ffn_up"],
      ["mlp.c_proj", "ffn_down"],
    ],
    embedding: "wte",
    ropePermute: false,
    fanInFanOut: true,
    taskType: "CAUSAL_LM",
  },
  bert: {
    prefix: "bert.",
    block: "encoder.layer",
    modules: [
      ["attention.self.query", "attn_q"],
      ["attention.self.key", "attn_k"],
      ["attention.self.value", "attn_v"],
      ["attention.output.dense", "attn_output"],
      ["intermediate.dense", "ffn_up"],
      ["output.dense", "ffn_down"],
    ],
    embedding: "embeddings.word_embeddings",
    ropePermute: false,
    fanInFanOut: false,
    taskType: null,
  },
};

export const GGUF_LORA_ARCHITECTURE_NAMES = Object.keys(GGUF_LORA_ARCHITECTURES) as GgufLoraArchitecture[];

export function isGgufLoraArchitecture(name: string): name is GgufLoraArchitecture {
  return Object.hasOwn(GGUF_LORA_ARCHITECTURES, name);
}

export const TOKEN_EMBD = "token_embd.weight";

/** A module's llama.cpp tensor name (`blk.3.attn_q.weight`, `token_embd.weight`) and the prefix before the model path. */
export interface GgufModuleName {
  name: string;
  prefix: string;
  /** Tensor kind in the block (`attn_q`...), or `token_embd`. */
  kind: string;
  block: number | null;
}

const escapeDots = (s: string) => s.replace(/[.]/g, "\\.");

/** `model.layers.3.self_attn.q_proj` -> `blk.3.attn_q.weight` (llama); undefined where llama.cpp has no LoRA name. */
export function moduleToGguf(module: string, arch: GgufLoraArchitecture): GgufModuleName | undefined {
  const t = GGUF_LORA_ARCHITECTURES[arch];
  if (module === t.embedding || module.endsWith(`.${t.embedding}`)) {
    return {
      name: TOKEN_EMBD,
      prefix: module.slice(0, module.length - t.embedding.length),
      kind: "token_embd",
      block: null,
    };
  }
  const m = new RegExp(`^((?:[^.]+\\.)*?)${escapeDots(t.block)}\\.(\\d+)\\.(.+)$`).exec(module);
  if (!m) return undefined;
  const found = t.modules.find(([hf]) => hf === m[3]);
  if (!found) return undefined;
  return { name: `blk.${m[2]}.${found[1]}.weight`, prefix: m[1] as string, kind: found[1], block: Number(m[2]) };
}

/** `blk.3.attn_q.weight` -> `model.layers.3.self_attn.q_proj` (with `prefix`, default the architecture's). */
export function ggufToModule(
  tensor: string,
  arch: GgufLoraArchitecture,
  prefix = GGUF_LORA_ARCHITECTURES[arch].prefix,
): { module: string; kind: string; block: number | null } | undefined {
  const t = GGUF_LORA_ARCHITECTURES[arch];
  if (tensor === TOKEN_EMBD) return { module: `${prefix}${t.embedding}`, kind: "token_embd", block: null };
  const m = /^blk\.(\d+)\.(\w+)\.weight$/.exec(tensor);
  if (!m) return undefined;
  const found = t.modules.find(([, g]) => g === m[2]);
  return found ? { module: `${prefix}${t.block}.${m[1]}.${found[0]}`, kind: found[1], block: Number(m[1]) } : undefined;
}

/** The one architecture whose names cover every module (llama before qwen2, which share names), if any. */
export function inferGgufArchitecture(modules: readonly string[]): GgufLoraArchitecture | undefined {
  if (modules.length === 0) return undefined;
  return GGUF_LORA_ARCHITECTURE_NAMES.find((arch) => modules.every((m) => moduleToGguf(m, arch)));
}

/** The names a module of `arch` may have, for error messages. */
export function describeGgufArchitecture(arch: GgufLoraArchitecture): string {
  const t = GGUF_LORA_ARCHITECTURES[arch];
  return [...t.modules.map(([hf]) => `${t.block}.N.${hf}`), t.embedding].join(", ");
}
