import { FormatError } from "../errors.js";
import type { PeftConfig } from "./PeftAdapter.js";

/** PEFT's defaults for every field `PeftConfig` types (`LoraConfig` in PEFT 0.17). */
export const PEFT_CONFIG_DEFAULTS: Readonly<PeftConfig> = Object.freeze({
  peft_type: "LORA",
  r: 8,
  lora_alpha: 8,
  lora_dropout: 0,
  target_modules: null,
  exclude_modules: null,
  bias: "none",
  fan_in_fan_out: false,
  init_lora_weights: true,
  rank_pattern: {},
  alpha_pattern: {},
  modules_to_save: null,
  layers_to_transform: null,
  layers_pattern: null,
  use_rslora: false,
  base_model_name_or_path: null,
  task_type: null,
});

const INIT_STRINGS = ["gaussian", "pissa", "olora", "loftq", "eva", "corda", "orthogonal"];

function bad(field: string, expected: string, found: unknown): FormatError {
  return new FormatError(
    "InvalidConfig",
    `adapter_config.json: expected ${field} to be ${expected}, found ${JSON.stringify(found) ?? String(found)}`,
  );
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isStringList = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === "string");
const isIndex = (n: unknown) => typeof n === "number" && Number.isInteger(n) && n >= 0;

function compiles(source: string): boolean {
  try {
    new RegExp(source);
    return true;
  } catch {
    return false;
  }
}

function checkModules(field: string, v: unknown): void {
  if (v === null || isStringList(v)) return;
  if (typeof v === "string") {
    if (v === "all-linear" || compiles(`^(?:${v})$`)) return;
    throw bad(field, 'a valid regular expression, a list of module names, or "all-linear"', v);
  }
  throw bad(field, 'null, a regular expression, "all-linear" or a list of strings', v);
}

function checkPattern(field: string, v: unknown, rank: boolean): void {
  if (!isObject(v)) throw bad(field, "an object mapping module-name patterns to numbers", v);
  for (const [k, n] of Object.entries(v)) {
    const ok = typeof n === "number" && Number.isFinite(n) && (!rank || (Number.isInteger(n) && n > 0));
    if (!ok) throw bad(`${field}[${JSON.stringify(k)}]`, rank ? "a positive integer" : "a finite number", n);
    if (!compiles(`^(?:.*\\.)?(?:${k})$`)) throw bad(`${field} key`, "a valid regular expression", k);
  }
}

/**
 * PEFT's defaults filled into `raw` (keys `raw` has win; unknown keys stay) and every typed field
 * checked: `InvalidConfig` naming the field, what is allowed and what was found. Returns a new object.
 */
export function validatePeftConfig(raw: Readonly<Record<string, unknown>>): PeftConfig {
  const c: Record<string, unknown> = { ...PEFT_CONFIG_DEFAULTS };
  for (const [k, v] of Object.entries(raw)) {
    // JSON never holds undefined; a caller's `{ r: undefined }` means "the default".
    if (v !== undefined) c[k] = v;
  }
  c.rank_pattern = isObject(c.rank_pattern) ? { ...c.rank_pattern } : (c.rank_pattern ?? {});
  c.alpha_pattern = isObject(c.alpha_pattern) ? { ...c.alpha_pattern } : (c.alpha_pattern ?? {});
  if (c.peft_type !== "LORA") throw bad("peft_type", '"LORA" (the only adapter type this package reads)', c.peft_type);
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
  if (!initOk) {
    const allowed = `true, false, or one of ${INIT_STRINGS.map((s) => `"${s}"`).join(", ")}, "pissa_niter_N"`;
    throw bad("init_lora_weights", allowed, init);
  }
  checkPattern("rank_pattern", c.rank_pattern, true);
  checkPattern("alpha_pattern", c.alpha_pattern, false);
  if (c.modules_to_save !== null && !isStringList(c.modules_to_save))
    throw bad("modules_to_save", "null or a list of strings", c.modules_to_save);
  const l = c.layers_to_transform;
  if (l !== null && !isIndex(l) && !(Array.isArray(l) && l.every(isIndex)))
    throw bad("layers_to_transform", "null, a layer index or a list of layer indices", l);
  const lp = c.layers_pattern;
  if (lp !== null && typeof lp !== "string" && !isStringList(lp))
    throw bad("layers_pattern", "null, a string or a list of strings", lp);
  // PEFT refuses a (non-empty) layers_pattern without layers_to_transform.
  if (
    (typeof lp === "string" ? lp !== "" : Array.isArray(lp) && lp.length > 0) &&
    (l === null || (Array.isArray(l) && l.length === 0))
  )
    throw bad("layers_pattern", "null unless layers_to_transform is set", lp);
  for (const f of ["base_model_name_or_path", "task_type"])
    if (c[f] !== null && typeof c[f] !== "string") throw bad(f, "a string or null", c[f]);
  return c as PeftConfig;
}
