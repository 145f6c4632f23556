import { FormatError, type Result, toResult } from "../errors.js";
import type { PeftConfig } from "./PeftAdapter.js";
import { patternValue as patternLookup } from "./peftKeys.js";

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

function bad(key: string, expected: string, found: unknown): FormatError {
  return new FormatError(
    "InvalidConfig",
    `adapter_config.json: expected ${key} to be ${expected}, found ${JSON.stringify(found) ?? String(found)}`,
  );
}

function numberMap(key: string, v: unknown): Record<string, number> {
  if (v == null) return {};
  if (typeof v !== "object" || Array.isArray(v)) throw bad(key, "an object of numbers", v);
  for (const [k, n] of Object.entries(v)) {
    if (typeof n !== "number" || !Number.isFinite(n) || n < 0) throw bad(`${key}.${k}`, "a non-negative number", n);
  }
  return { ...(v as Record<string, number>) };
}

function stringList(key: string, v: unknown, allowString: boolean): string[] | string | null {
  if (v == null) return null;
  if (allowString && typeof v === "string") return v;
  if (Array.isArray(v) && v.every((s) => typeof s === "string")) return [...v];
  throw bad(key, allowString ? "a list of strings, a string or null" : "a list of strings or null", v);
}

/**
 * Parses and checks `adapter_config.json` (bytes, text or an already parsed object). Refuses what
 * would load wrong (`InvalidConfig`): not an object, not a LoRA, a rank that is not a positive
 * integer, patterns that are not numbers. Keys it does not know are kept and reported in `warnings`.
 */
export function parsePeftConfig(input: Uint8Array | string | unknown): { config: PeftConfig; warnings: string[] } {
  let raw: unknown = input;
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
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new FormatError(
      "InvalidConfig",
      `adapter_config.json: expected a JSON object, found ${Array.isArray(raw) ? "an array" : typeof raw}`,
    );
  }
  const obj = raw as Record<string, unknown>;
  const peftType = obj.peft_type ?? "LORA";
  if (peftType !== "LORA") throw bad("peft_type", '"LORA" (the only adapter type this package reads)', peftType);
  const r = obj.r ?? 8;
  if (typeof r !== "number" || !Number.isInteger(r) || r < 1) throw bad("r", "a positive integer", r);
  const alpha = obj.lora_alpha ?? 8;
  if (typeof alpha !== "number" || !Number.isFinite(alpha)) throw bad("lora_alpha", "a finite number", alpha);
  const fifo = obj.fan_in_fan_out ?? false;
  if (typeof fifo !== "boolean") throw bad("fan_in_fan_out", "a boolean", fifo);
  const rslora = obj.use_rslora ?? false;
  if (typeof rslora !== "boolean") throw bad("use_rslora", "a boolean", rslora);
  const base = obj.base_model_name_or_path ?? null;
  if (base !== null && typeof base !== "string") throw bad("base_model_name_or_path", "a string or null", base);
  const task = obj.task_type ?? null;
  if (task !== null && typeof task !== "string") throw bad("task_type", "a string or null", task);
  const rankPattern = numberMap("rank_pattern", obj.rank_pattern);
  for (const [k, v] of Object.entries(rankPattern)) {
    if (!Number.isInteger(v) || v < 1) throw bad(`rank_pattern.${k}`, "a positive integer", v);
  }
  const config: PeftConfig = {
    ...obj,
    peft_type: "LORA",
    r,
    lora_alpha: alpha,
    target_modules: stringList("target_modules", obj.target_modules, true),
    fan_in_fan_out: fifo,
    rank_pattern: rankPattern,
    alpha_pattern: numberMap("alpha_pattern", obj.alpha_pattern),
    modules_to_save: stringList("modules_to_save", obj.modules_to_save, false) as string[] | null,
    use_rslora: rslora,
    base_model_name_or_path: base,
    task_type: task,
  };
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
 * The config as PEFT writes it: keys sorted, two-space indent (`json.dumps(..., indent=2,
 * sort_keys=True)`), so the same config always gives the same bytes.
 */
export function serializePeftConfig(config: PeftConfig): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(sortKeys(config), null, 2));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (typeof v === "object" && v !== null) {
    // fromEntries defines own properties, so a key such as "__proto__" stays a plain key.
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
    );
  }
  return v;
}
