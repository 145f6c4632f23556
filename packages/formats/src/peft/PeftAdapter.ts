import type { ModelCard } from "../modelcard/modelCard.js";
import type { Tensor } from "../safetensors/SafetensorsFile.js";

/**
 * `adapter_config.json` of a LoRA adapter. The known fields are typed; every other key the file
 * had is kept as is (and reported as a warning when read), so writing it back loses nothing.
 */
export interface PeftConfig {
  peft_type: string;
  r: number;
  lora_alpha: number;
  /** Module names or suffixes (a list), a regular expression that must match the whole name (a string), or null. */
  target_modules: string[] | string | null;
  fan_in_fan_out: boolean;
  rank_pattern: Record<string, number>;
  alpha_pattern: Record<string, number>;
  modules_to_save: string[] | null;
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
  /** The safetensors `__metadata__` (PEFT writes `{"format": "pt"}`). */
  metadata: Record<string, string> | null;
  /** `README.md`, when the folder has one. */
  modelCard: ModelCard | null;
}

/** What reading returns: the adapter and every warning (unknown keys, ignored files...), never printed. */
export interface PeftReadResult {
  adapter: PeftAdapter;
  warnings: string[];
}
