import { FormatError, type Result, toResult } from "../errors.js";
import { patternValue as patternLookup } from "./moduleMatch.js";
import type { PeftConfig } from "./PeftAdapter.js";
import { floatPathsOf, pythonJsonDumps } from "./pythonJson.js";
import { validatePeftConfig } from "./validatePeftConfig.js";

/** Keys of PEFT's `LoraConfig` (and its `PeftConfig` base) up to PEFT 0.17; others warn. */
export const KNOWN_LORA_CONFIG_KEYS: ReadonlySet<string> = new Set([
  "alora_invocation_tokens",
  "alpha_pattern",
  "arrow_config",
  "auto_mapping",
  "base_model_name_or_path",
  "bias",
  "corda_config",
  "ensure_weight_tying",
  "eva_config",
  "exclude_modules",
  "fan_in_fan_out",
  "inference_mode",
  "init_lora_weights",
  "layer_replication",
  "layers_pattern",
  "layers_to_transform",
  "loftq_config",
  "lora_alpha",
  "lora_bias",
  "lora_dropout",
  "megatron_config",
  "megatron_core",
  "modules_to_save",
  "peft_type",
  "peft_version",
  "qalora_group_size",
  "r",
  "rank_pattern",
  "revision",
  "runtime_config",
  "target_modules",
  "target_parameters",
  "task_type",
  "trainable_token_indices",
  "use_dora",
  "use_qalora",
  "use_rslora",
]);

const decoder = new TextDecoder("utf-8", { fatal: true });

/** What a config looked like in its file: needed to write an unchanged config back byte for byte. */
export interface ConfigSource {
  /** JSON pointers of the numbers written as floats (`0.0`). */
  floats: ReadonlySet<string>;
  /** Keys the file did not have, with the default `parsePeftConfig` filled in. */
  filled: ReadonlyMap<string, unknown>;
  /** Keys whose value was normalized (`"rank_pattern": null` read as `{}`), with the value as written. */
  written: ReadonlyMap<string, { value: unknown; read: unknown }>;
}

const sources = new WeakMap<object, ConfigSource>();

/** How `config` was written in its file, when it came from `parsePeftConfig` (not a copy of it). */
export function configSourceOf(config: object): ConfigSource | undefined {
  return sources.get(config);
}

/**
 * Parses and checks `adapter_config.json` (bytes, text or an already parsed object): PEFT's defaults
 * are filled in and every known field is checked (`InvalidConfig` naming the field, what is allowed
 * and what was found: a rank that is not a positive integer, `lora_dropout` outside [0, 1), regular
 * expressions that do not compile...). Keys it does not know are kept and reported in `warnings`.
 * The returned object remembers which keys were filled in and which numbers were floats, so
 * `serializePeftConfig` writes an unchanged config back exactly as PEFT wrote it.
 */
export function parsePeftConfig(input: Uint8Array | string | unknown): { config: PeftConfig; warnings: string[] } {
  let raw: unknown = input;
  let floats: ReadonlySet<string> = new Set();
  if (input instanceof Uint8Array || typeof input === "string") {
    let text: string;
    try {
      text = typeof input === "string" ? input : decoder.decode(input);
    } catch (cause) {
      throw new FormatError("InvalidConfig", "adapter_config.json: expected UTF-8 text, found invalid bytes", {
        cause,
      });
    }
    try {
      raw = JSON.parse(text);
    } catch (cause) {
      throw new FormatError(
        "InvalidConfig",
        `adapter_config.json: expected JSON, found a syntax error (${(cause as Error).message})`,
        { cause },
      );
    }
    floats = floatPathsOf(text);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new FormatError(
      "InvalidConfig",
      `adapter_config.json: expected a JSON object, found ${Array.isArray(raw) ? "an array" : raw === null ? "null" : typeof raw}`,
    );
  }
  const obj = raw as Record<string, unknown>;
  const config = validatePeftConfig(obj);
  const filled = new Map<string, unknown>();
  const written = new Map<string, { value: unknown; read: unknown }>();
  for (const k of Object.keys(config)) {
    if (!Object.hasOwn(obj, k) || obj[k] === undefined) filled.set(k, config[k]);
    else if (!sameJson(obj[k], config[k])) written.set(k, { value: obj[k], read: structuredClone(config[k]) });
  }
  sources.set(config, { floats, filled, written });
  const warnings = Object.keys(obj)
    .filter((k) => !KNOWN_LORA_CONFIG_KEYS.has(k))
    .map(
      (k) => `adapter_config.json: unknown key ${JSON.stringify(k)} kept as is (written by a newer or another tool?)`,
    );
  return { config, warnings };
}

export function safeParsePeftConfig(
  input: Uint8Array | string | unknown,
): Result<{ config: PeftConfig; warnings: string[] }> {
  return toResult(() => parsePeftConfig(input));
}

/** Rank and alpha PEFT uses for `module` (rank_pattern / alpha_pattern override r / lora_alpha). */
export function rankAndAlpha(module: string, config: PeftConfig): { r: number; alpha: number } {
  return {
    r: patternLookup(module, config.rank_pattern) ?? config.r,
    alpha: patternLookup(module, config.alpha_pattern) ?? config.lora_alpha,
  };
}

/** LoRA scaling PEFT applies: alpha / r, or alpha / sqrt(r) with rsLoRA. */
export function loraScale(module: string, config: PeftConfig): number {
  const { r, alpha } = rankAndAlpha(module, config);
  return config.use_rslora ? alpha / Math.sqrt(r) : alpha / r;
}

/**
 * The config as PEFT writes it: `json.dumps(config, indent=2, sort_keys=True)`, no trailing newline.
 * A config from `parsePeftConfig` keeps what it had in its file (floats stay floats, defaults that
 * were filled in and not changed are left out), so reading and writing an unchanged config gives
 * the same bytes. A config built in code writes `lora_dropout` as a float, as PEFT's dataclass does.
 */
export function serializePeftConfig(config: PeftConfig): Uint8Array {
  const source = configSourceOf(config);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(config)) {
    if (source?.filled.has(k) && sameJson(source.filled.get(k), v)) continue;
    const w = source?.written.get(k);
    out[k] = w && sameJson(w.read, v) ? w.value : v;
  }
  const floats = new Set(source?.floats ?? []);
  if (!source || source.filled.has("lora_dropout")) floats.add("/lora_dropout");
  return new TextEncoder().encode(pythonJsonDumps(out, floats));
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
