import { FormatError } from "../errors.js";
import { type BaseManifest, buildManifest, type ModuleLayout } from "./BaseManifest.js";
import { type ResolvedArchitecture, resolveArchitecture } from "./resolveArchitecture.js";

type Modules = Record<string, { shape: number[]; layout: ModuleLayout; tiedTo?: string }>;
export type HfConfig = Record<string, unknown>;

function int(config: HfConfig, key: string, fallback?: number): number {
  const v = config[key] ?? fallback;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0) {
    throw new FormatError(
      "InvalidConfig",
      `config.json: expected ${key} to be a non-negative integer, found ${JSON.stringify(config[key])}`,
    );
  }
  return v;
}

function modelTypeOf(config: HfConfig): string {
  if (typeof config.model_type !== "string") {
    throw new FormatError(
      "InvalidConfig",
      `config.json: expected model_type (a string), found ${JSON.stringify(config.model_type)}`,
    );
  }
  return config.model_type;
}

/** Where each family puts its backbone in the checkpoint, by head class (see `resolveArchitecture`). */
export function backbonePrefix(modelType: string, architecture: string): string {
  return resolveArchitecture({ model_type: modelType, architectures: [architecture] }).prefix;
}

/** Modules whose weight is tied to another and therefore absent from checkpoints. */
export function tiedHeads(
  modelType: string,
  architecture: string,
  config: HfConfig,
  p: string,
): Record<string, string> {
  const tie = config.tie_word_embeddings;
  if (modelType === "gpt2" && architecture === "GPT2LMHeadModel" && tie !== false) return { lm_head: `${p}wte` };
  if (modelType === "bert" && /^Bert(LMHeadModel|ForMaskedLM|ForPreTraining)$/.test(architecture) && tie !== false) {
    return { "cls.predictions.decoder": `${p}embeddings.word_embeddings` };
  }
  if ((modelType === "llama" || modelType === "mistral" || modelType === "qwen2") && p === "model." && tie === true)
    return { lm_head: `${p}embed_tokens` };
  return {};
}

function gpt2(config: HfConfig, p: string): Modules {
  const d = int(config, "n_embd");
  const inner = config.n_inner == null ? 4 * d : int(config, "n_inner");
  const m: Modules = {
    [`${p}wte`]: { shape: [int(config, "vocab_size"), d], layout: "embedding" },
    [`${p}wpe`]: { shape: [int(config, "n_positions", 1024), d], layout: "embedding" },
  };
  for (let i = 0; i < int(config, "n_layer"); i++) {
    const h = `${p}h.${i}.`;
    m[`${h}attn.c_attn`] = { shape: [d, 3 * d], layout: "conv1d" };
    m[`${h}attn.c_proj`] = { shape: [d, d], layout: "conv1d" };
    m[`${h}mlp.c_fc`] = { shape: [d, inner], layout: "conv1d" };
    m[`${h}mlp.c_proj`] = { shape: [inner, d], layout: "conv1d" };
  }
  return m;
}

function bert(config: HfConfig, p: string, lmHead: boolean): Modules {
  const d = int(config, "hidden_size");
  const inner = int(config, "intermediate_size");
  const m: Modules = {
    [`${p}embeddings.word_embeddings`]: { shape: [int(config, "vocab_size"), d], layout: "embedding" },
    [`${p}embeddings.position_embeddings`]: {
      shape: [int(config, "max_position_embeddings", 512), d],
      layout: "embedding",
    },
    [`${p}embeddings.token_type_embeddings`]: { shape: [int(config, "type_vocab_size", 2), d], layout: "embedding" },
  };
  for (let i = 0; i < int(config, "num_hidden_layers"); i++) {
    const l = `${p}encoder.layer.${i}.`;
    for (const q of ["query", "key", "value"]) m[`${l}attention.self.${q}`] = { shape: [d, d], layout: "linear" };
    m[`${l}attention.output.dense`] = { shape: [d, d], layout: "linear" };
    m[`${l}intermediate.dense`] = { shape: [inner, d], layout: "linear" };
    m[`${l}output.dense`] = { shape: [d, inner], layout: "linear" };
  }
  // The LM head's transform; the pooler and other task heads are not built by the runtime, so no
  // adapter can be applied to them and they are not part of the manifest.
  if (lmHead) m["cls.predictions.transform.dense"] = { shape: [d, d], layout: "linear" };
  return m;
}

function llama(config: HfConfig, p: string): Modules {
  const d = int(config, "hidden_size");
  const heads = int(config, "num_attention_heads");
  const kv = int(config, "num_key_value_heads", heads);
  const headDim = config.head_dim == null ? Math.floor(d / heads) : int(config, "head_dim");
  const inner = int(config, "intermediate_size");
  const vocab = int(config, "vocab_size");
  const m: Modules = { [`${p}embed_tokens`]: { shape: [vocab, d], layout: "embedding" } };
  for (let i = 0; i < int(config, "num_hidden_layers"); i++) {
    const l = `${p}layers.${i}.`;
    m[`${l}self_attn.q_proj`] = { shape: [heads * headDim, d], layout: "linear" };
    m[`${l}self_attn.k_proj`] = { shape: [kv * headDim, d], layout: "linear" };
    m[`${l}self_attn.v_proj`] = { shape: [kv * headDim, d], layout: "linear" };
    m[`${l}self_attn.o_proj`] = { shape: [d, heads * headDim], layout: "linear" };
    m[`${l}mlp.gate_proj`] = { shape: [inner, d], layout: "linear" };
    m[`${l}mlp.up_proj`] = { shape: [inner, d], layout: "linear" };
    m[`${l}mlp.down_proj`] = { shape: [d, inner], layout: "linear" };
  }
  if (p === "model." && config.tie_word_embeddings !== true) m.lm_head = { shape: [vocab, d], layout: "linear" };
  return m;
}

/**
 * A base manifest from a Hugging Face `config.json` alone (no weights), for the GPT-2, BERT and
 * Llama families (Mistral and Qwen2 share Llama's module names). The class, and so the prefix of
 * module names, follows {@link resolveArchitecture} (`architectures`, else the bare backbone), the
 * same rule the runtime builds by, so the digest equals that of the loaded model. Tied heads are
 * listed with `tiedTo`. Other model types: `InvalidConfig` (use `manifestFromHeader`).
 */
export function manifestFromConfig(config: HfConfig): BaseManifest {
  return manifestForArchitecture(config, resolveArchitecture(config));
}

/** The model types whose manifest `config.json` alone gives (the builders below). */
export const CONFIG_MODEL_TYPES: readonly string[] = ["gpt2", "bert", "llama", "mistral", "qwen2"];

/** {@link manifestFromConfig} for an architecture already resolved (from the checkpoint's tensor names too). */
export function manifestForArchitecture(config: HfConfig, resolved: ResolvedArchitecture): BaseManifest {
  const modelType = modelTypeOf(config);
  const { architecture, prefix: p } = resolved;
  let modules: Modules;
  if (modelType === "gpt2") modules = gpt2(config, p);
  else if (modelType === "bert") modules = bert(config, p, resolved.lmHead);
  else if (modelType === "llama" || modelType === "mistral" || modelType === "qwen2") modules = llama(config, p);
  else {
    throw new FormatError(
      "InvalidConfig",
      `config.json: expected model_type ${CONFIG_MODEL_TYPES.slice(0, -1).join(", ")} or ${CONFIG_MODEL_TYPES.at(-1)} to build a manifest without weights, found ${JSON.stringify(modelType)}`,
    );
  }
  for (const [head, target] of Object.entries(tiedHeads(modelType, architecture, config, p))) {
    const t = modules[target];
    if (t) modules[head] = { shape: [...t.shape], layout: "linear", tiedTo: target };
  }
  return buildManifest(architecture, modelType, modules);
}
