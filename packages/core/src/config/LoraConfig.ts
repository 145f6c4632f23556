import {
  type InitLoraWeights,
  isFormatError,
  type LoraBias,
  PEFT_CONFIG_DEFAULTS,
  type PeftConfig,
  parsePeftConfig,
} from "@lowrank/formats";
import { CoreError, isCoreError } from "../errors.js";

export type { InitLoraWeights, LoraBias };

/**
 * A LoRA config with PEFT's field names and meanings (`adapter_config.json`): `@lowrank/formats`'
 * `PeftConfig` with every field filled in. Keys this package does not know are kept as they were,
 * so a config read and written back loses nothing.
 */
export type LoraConfig = PeftConfig &
  Required<
    Pick<
      PeftConfig,
      "lora_dropout" | "exclude_modules" | "bias" | "init_lora_weights" | "layers_to_transform" | "layers_pattern"
    >
  >;

/** PEFT's defaults (the same object as `@lowrank/formats`' `PEFT_CONFIG_DEFAULTS`). */
export const LORA_CONFIG_DEFAULTS = PEFT_CONFIG_DEFAULTS as Readonly<LoraConfig>;

/**
 * Validates a LoRA config (an object or JSON text) with `@lowrank/formats`' `parsePeftConfig` (the one
 * PEFT config parser), fills PEFT's defaults, keeps unknown keys. Throws `CoreError` `InvalidConfig`
 * naming the field, the allowed values and what was found.
 */
export function parseLoraConfig(input: unknown): LoraConfig {
  try {
    return parsePeftConfig(input).config as LoraConfig;
  } catch (error) {
    if (isFormatError(error) && error.code === "InvalidConfig")
      throw new CoreError("InvalidConfig", error.message.replace(/^adapter_config\.json: /, "LoraConfig: "));
    throw error;
  }
}

/** `parseLoraConfig` that returns `{ ok, value | error }` instead of throwing. */
export function safeParseLoraConfig(input: unknown): { ok: true; value: LoraConfig } | { ok: false; error: CoreError } {
  try {
    return { ok: true, value: parseLoraConfig(input) };
  } catch (error) {
    if (isCoreError(error)) return { ok: false, error };
    throw error;
  }
}

/** `lora_alpha / r`, or `lora_alpha / sqrt(r)` with rsLoRA. */
export function loraScaling(alpha: number, r: number, useRslora = false): number {
  return useRslora ? alpha / Math.sqrt(r) : alpha / r;
}
