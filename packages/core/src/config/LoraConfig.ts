import { CoreError } from "../errors.js";

/** PEFT's `init_lora_weights` values. Only `true`, `false`, `"gaussian"` and `"pissa"`/`"pissa_niter_N"` initialize here. */
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
 * A LoRA config with PEFT's field names and meanings (`adapter_config.json`). Keys this package does
 * not know are kept as they were, so a config read and written back loses nothing.
 */
export interface LoraConfig {
  peft_type: "LORA";
  r: number;
  lora_alpha: number;
  lora_dropout: number;
  /**
   * A list: a module matches if its name equals an entry or ends with `"." + entry`. A string: a
   * regular expression fully matched against the module name, or `"all-linear"` (every linear module
   * except the output head). `null`: the host's default targets.
   */
  target_modules: string | string[] | null;
  /** Same matching rules as `target_modules`; excluded modules are never adapted. */
  exclude_modules: string | string[] | null;
  bias: LoraBias;
  /** Scale by `lora_alpha / sqrt(r)` instead of `lora_alpha / r`. */
  use_rslora: boolean;
  /** The base weight is stored [in, out] (GPT-2's Conv1D) rather than torch's [out, in]. */
  fan_in_fan_out: boolean;
  init_lora_weights: InitLoraWeights;
  /** Per-module rank overrides; keys match a module name exactly or as a dotted-suffix regex. */
  rank_pattern: Record<string, number>;
  alpha_pattern: Record<string, number>;
  /** Modules (not LoRA-adapted) that are trained fully and saved with the adapter. */
  modules_to_save: string[] | null;
  layers_to_transform: number | number[] | null;
  layers_pattern: string | string[] | null;
  task_type: string | null;
  [unknownKey: string]: unknown;
}

export const LORA_CONFIG_DEFAULTS: Readonly<Omit<LoraConfig, "target_modules"> & { target_modules: null }> = {
  peft_type: "LORA",
  r: 8,
  lora_alpha: 8,
  lora_dropout: 0,
  target_modules: null,
  exclude_modules: null,
  bias: "none",
  use_rslora: false,
  fan_in_fan_out: false,
  init_lora_weights: true,
  rank_pattern: {},
  alpha_pattern: {},
  modules_to_save: null,
  layers_to_transform: null,
  layers_pattern: null,
  task_type: null,
};

function bad(field: string, expected: string, found: unknown): CoreError {
  const shown = typeof found === "string" ? JSON.stringify(found) : (JSON.stringify(found) ?? String(found));
  return new CoreError("InvalidConfig", `LoraConfig.${field}: expected ${expected}, found ${shown}`, {
    field,
    expected,
    found,
  });
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isStringList = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === "string");

function checkRegex(field: string, source: string): void {
  if (source === "all-linear") return;
  try {
    new RegExp(source);
  } catch {
    throw bad(field, 'a valid regular expression, a list of module names, or "all-linear"', source);
  }
}

function checkModules(field: string, v: unknown): void {
  if (v === null) return;
  if (typeof v === "string") {
    checkRegex(field, v);
    return;
  }
  if (!isStringList(v)) throw bad(field, 'null, a regex string, "all-linear" or a list of strings', v);
}

function checkPattern(field: string, v: unknown, integer: boolean): void {
  if (!isObject(v)) throw bad(field, "an object mapping module-name patterns to numbers", v);
  for (const [k, n] of Object.entries(v)) {
    const ok = typeof n === "number" && Number.isFinite(n) && (!integer || (Number.isInteger(n) && n > 0));
    if (!ok) throw bad(`${field}[${JSON.stringify(k)}]`, integer ? "a positive integer" : "a finite number", n);
    checkRegex(`${field} key`, k);
  }
}

const INIT_STRINGS = ["gaussian", "pissa", "olora", "loftq", "eva", "corda", "orthogonal"];

/**
 * Validates a LoRA config (an object or JSON text), fills PEFT's defaults, keeps unknown keys.
 * Throws `CoreError` `InvalidConfig` naming the field, the allowed values and what was found.
 */
export function parseLoraConfig(input: unknown): LoraConfig {
  let raw = input;
  if (typeof raw === "string") {
    try {
      raw = JSON.parse(raw);
    } catch (e) {
      throw new CoreError(
        "InvalidConfig",
        `LoraConfig: expected JSON text, found unparseable input (${(e as Error).message})`,
      );
    }
  }
  if (!isObject(raw)) throw bad("(root)", "an object", raw);
  const c = { ...LORA_CONFIG_DEFAULTS, ...raw } as Record<string, unknown>;
  for (const [k, v] of Object.entries(c))
    if (v === undefined) c[k] = (LORA_CONFIG_DEFAULTS as Record<string, unknown>)[k] ?? null;

  if (c.peft_type !== "LORA") throw bad("peft_type", '"LORA"', c.peft_type);
  if (typeof c.r !== "number" || !Number.isInteger(c.r) || c.r <= 0) throw bad("r", "a positive integer", c.r);
  if (typeof c.lora_alpha !== "number" || !Number.isFinite(c.lora_alpha))
    throw bad("lora_alpha", "a finite number", c.lora_alpha);
  if (typeof c.lora_dropout !== "number" || !(c.lora_dropout >= 0 && c.lora_dropout < 1))
    throw bad("lora_dropout", "a number in [0, 1)", c.lora_dropout);
  checkModules("target_modules", c.target_modules);
  checkModules("exclude_modules", c.exclude_modules);
  if (c.bias !== "none" && c.bias !== "all" && c.bias !== "lora_only")
    throw bad("bias", 'one of "none", "all", "lora_only"', c.bias);
  for (const f of ["use_rslora", "fan_in_fan_out"]) if (typeof c[f] !== "boolean") throw bad(f, "true or false", c[f]);
  const init = c.init_lora_weights;
  const initOk =
    typeof init === "boolean" ||
    (typeof init === "string" && (INIT_STRINGS.includes(init) || /^pissa_niter_\d+$/.test(init)));
  if (!initOk)
    throw bad(
      "init_lora_weights",
      `true, false, or one of ${INIT_STRINGS.map((s) => `"${s}"`).join(", ")}, "pissa_niter_N"`,
      init,
    );
  checkPattern("rank_pattern", c.rank_pattern, true);
  checkPattern("alpha_pattern", c.alpha_pattern, false);
  if (c.modules_to_save !== null && !isStringList(c.modules_to_save))
    throw bad("modules_to_save", "null or a list of strings", c.modules_to_save);
  const l = c.layers_to_transform;
  const isIdx = (n: unknown) => typeof n === "number" && Number.isInteger(n) && n >= 0;
  if (l !== null && !isIdx(l) && !(Array.isArray(l) && l.every(isIdx)))
    throw bad("layers_to_transform", "null, a layer index or a list of layer indices", l);
  const lp = c.layers_pattern;
  if (lp !== null && typeof lp !== "string" && !isStringList(lp))
    throw bad("layers_pattern", "null, a string or a list of strings", lp);
  if (lp !== null && l === null) throw bad("layers_pattern", "null unless layers_to_transform is set", lp);
  if (c.task_type !== null && typeof c.task_type !== "string") throw bad("task_type", "null or a string", c.task_type);
  return c as LoraConfig;
}

/** `parseLoraConfig` that returns `{ ok, value | error }` instead of throwing. */
export function safeParseLoraConfig(input: unknown): { ok: true; value: LoraConfig } | { ok: false; error: CoreError } {
  try {
    return { ok: true, value: parseLoraConfig(input) };
  } catch (error) {
    if (error instanceof CoreError) return { ok: false, error };
    throw error;
  }
}

/** `lora_alpha / r`, or `lora_alpha / sqrt(r)` with rsLoRA. */
export function loraScaling(alpha: number, r: number, useRslora = false): number {
  return useRslora ? alpha / Math.sqrt(r) : alpha / r;
}
