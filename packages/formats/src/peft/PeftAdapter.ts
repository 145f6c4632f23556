import type { ModelCard } from "../modelcard/modelCard.js";
import type { Tensor } from "../safetensors/SafetensorsFile.js";

/** PEFT's `init_lora_weights` values. */
export type InitLoraWeights =
  | boolean
  | "gaussian"
  | "pissa"
  | `pissa_niter_${number}`
  | "olora"
  | "loftq"
  | "eva"
  | "corda"
  | "orthogonal";
export type LoraBias = "none" | "all" | "lora_only";

/**
 * `adapter_config.json` of a LoRA adapter, with PEFT's field names, meanings and defaults. The known
 * fields are typed and checked by `parsePeftConfig`; every other key the file had is kept as is (and
 * reported as a warning when read), so writing it back loses nothing. `parsePeftConfig` fills every
 * field, optional ones included; code that builds a config may leave the optional ones out (PEFT's
 * defaults apply).
 */
export interface PeftConfig {
  peft_type: "LORA";
  r: number;
  lora_alpha: number;
  /** In [0, 1). */
  lora_dropout?: number;
  /**
   * A list: a module matches if its name equals an entry or ends with `"." + entry`. A string: a
   * regular expression fully matched against the module name, or `"all-linear"` (every linear module
   * except the output head). `null`: the host's default targets.
   */
  target_modules: string[] | string | null;
  /** Same matching rules as `target_modules`; excluded modules are never adapted. */
  exclude_modules?: string[] | string | null;
  bias?: LoraBias;
  /** The base weight is stored [in, out] (GPT-2's Conv1D) rather than torch's [out, in]. */
  fan_in_fan_out: boolean;
  init_lora_weights?: InitLoraWeights;
  /** Per-module overrides; keys are tried in order, PEFT's `get_pattern_key` rule (see `patternKeyFor`). */
  rank_pattern: Record<string, number>;
  alpha_pattern: Record<string, number>;
  /** Modules (not LoRA-adapted) that are trained fully and saved with the adapter. */
  modules_to_save: string[] | null;
  layers_to_transform?: number | number[] | null;
  layers_pattern?: string | string[] | null;
  /** Scale by `lora_alpha / sqrt(r)` instead of `lora_alpha / r`. */
  use_rslora: boolean;
  base_model_name_or_path: string | null;
  task_type: string | null;
  [key: string]: unknown;
}

/** The two LoRA factors of one module, as PEFT stores them (torch layouts). */
export interface PeftModuleWeights {
  /**
   * `lora` for Linear / Conv1D / Conv layers (`lora_A.weight` [r, in], `lora_B.weight` [out, r]);
   * `embedding` for Embedding layers (`lora_embedding_A` [r, vocab], `lora_embedding_B` [dim, r]).
   */
  kind: "lora" | "embedding";
  A: Tensor;
  B: Tensor;
  /** `lora_B.bias` when the adapter was trained with `lora_bias: true`. */
  bias?: Tensor;
  /**
   * The keys the factors were read under, when they differ from what PEFT writes (`lora_A.default.weight`,
   * no `base_model.model.` prefix), so writing back keeps them; ignored when they no longer name this module.
   */
  keys?: { A?: string; B?: string; bias?: string };
}

/**
 * A PEFT LoRA adapter as plain data: no tfjs, raw little-endian bytes per tensor. Module names are
 * Hugging Face names (`transformer.h.0.attn.c_attn`): the PEFT key with `base_model.model.` and the
 * `.lora_A.weight` suffix removed.
 */
export interface PeftAdapter {
  config: PeftConfig;
  modules: Record<string, PeftModuleWeights>;
  /** Full copies of `modules_to_save` modules: module name -> parameter name (`weight`, `bias`) -> tensor. */
  modulesToSave: Record<string, Record<string, Tensor>>;
  /** Tensors this package does not interpret (DoRA magnitudes, trainable tokens...), by their full key; written back unchanged. */
  otherTensors: Record<string, Tensor>;
  /**
   * The safetensors `__metadata__` exactly as read (PEFT writes `{"format": "pt"}`); null when the file
   * had none, and then none is written back.
   */
  metadata: Record<string, string> | null;
  /** `README.md`, when the folder has one. */
  modelCard: ModelCard | null;
}

/** What reading returns: the adapter and every warning (unknown keys, ignored files...), never printed. */
export interface PeftReadResult {
  adapter: PeftAdapter;
  warnings: string[];
}
