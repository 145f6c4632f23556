/** Prefix PEFT puts before module names in `adapter_model.safetensors` (LoRA on a `PreTrainedModel`). */
export const PEFT_PREFIX = "base_model.model.";

export type PeftKeyPart = "lora_A" | "lora_B" | "lora_B.bias" | "lora_embedding_A" | "lora_embedding_B";

/** What a LoRA key names: the module, the factor, and the adapter name when the key carries one. */
export interface PeftKeyInfo {
  module: string;
  part: PeftKeyPart;
  /** `default` in `lora_A.default.weight` (keys as a live PEFT model names them); absent in saved files. */
  adapter?: string;
}

// Linear / Conv factors: `<module>.lora_A[.<adapter>].weight`, `<module>.lora_B[.<adapter>].(weight|bias)`.
const LINEAR_KEY = /^(.+)\.(lora_A|lora_B)(?:\.([^.]+))?\.(weight|bias)$/;
// Embedding factors are parameters, not modules: `<module>.lora_embedding_A[.<adapter>]`.
const EMBEDDING_KEY = /^(.+)\.(lora_embedding_A|lora_embedding_B)(?:\.([^.]+))?$/;
const SAVE_KEY = /^(.+)\.modules_to_save\.(?:default\.)?(.+)$/;

/**
 * Splits a LoRA key into module, factor and adapter name; null for keys that are not LoRA factors.
 * Accepts every form PEFT writes or loads: with or without `base_model.model.`, with or without the
 * adapter name (`lora_A.weight`, `lora_A.default.weight`, `lora_embedding_A`, `lora_embedding_A.default`).
 */
export function parsePeftKey(key: string): PeftKeyInfo | null {
  const name = stripPrefix(key);
  const lin = LINEAR_KEY.exec(name);
  if (lin) {
    const [, module, factor, adapter, kind] = lin as unknown as [string, string, "lora_A" | "lora_B", string?, string?];
    if (kind === "bias" && factor === "lora_A") return null;
    const part: PeftKeyPart = kind === "bias" ? "lora_B.bias" : factor;
    return adapter === undefined ? { module, part } : { module, part, adapter };
  }
  const emb = EMBEDDING_KEY.exec(name);
  if (emb) {
    const [, module, part, adapter] = emb as unknown as [string, string, PeftKeyPart, string?];
    return adapter === undefined ? { module, part } : { module, part, adapter };
  }
  return null;
}

/** `<module>.modules_to_save.<param>` (older writers), else null. */
export function parseModulesToSaveKey(key: string): { module: string; param: string } | null {
  const m = SAVE_KEY.exec(stripPrefix(key));
  return m ? { module: m[1] as string, param: m[2] as string } : null;
}

export function stripPrefix(key: string): string {
  return key.startsWith(PEFT_PREFIX) ? key.slice(PEFT_PREFIX.length) : key;
}

/**
 * The base parameter a non-LoRA PEFT key stands for: without the `base_model.model.` prefix, and
 * without the `.modules_to_save[.default]` segment older PEFT writers kept (`classifier.modules_to_save.weight`).
 */
export function peftParameterName(key: string): string {
  return stripPrefix(key).replace(/\.modules_to_save(?:\.default)?\./, ".");
}

/** The key PEFT writes for a module's factor. */
export function peftKey(module: string, part: PeftKeyPart): string {
  const suffix = part === "lora_A" || part === "lora_B" ? `${part}.weight` : part;
  return `${PEFT_PREFIX}${module}.${suffix}`;
}
