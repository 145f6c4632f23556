import type { LoraConfig } from "./LoraConfig.js";

/**
 * PEFT's module matching. A string is a regex fully matched against the whole module name; a list
 * matches a name equal to an entry or ending with `"." + entry`. (`"all-linear"` is resolved by the
 * caller, which knows which module is the output head.)
 */
export function matchesModuleList(name: string, spec: string | string[]): boolean {
  if (typeof spec === "string") return new RegExp(`^(?:${spec})$`).test(name);
  return spec.some((t) => name === t || name.endsWith(`.${t}`));
}

/**
 * The base parameter a non-LoRA PEFT key stands for: without the `base_model.model.` prefix, and without
 * the `.modules_to_save[.default]` segment older PEFT writers kept (`classifier.modules_to_save.weight`).
 */
export function peftParameterName(key: string): string {
  return key.replace(/^base_model\.model\./, "").replace(/\.modules_to_save(?:\.default)?\./, ".");
}

/**
 * The `modules_to_save` module that owns parameter `key` (`classifier.out_proj.weight` belongs to
 * `classifier` for `["classifier"]`): PEFT wraps whole modules, containers included, so any dotted prefix
 * of the parameter's module path may match. Null when none does.
 */
export function savedModuleOf(key: string, modulesToSave: string[] | null | undefined): string | null {
  if (!modulesToSave || modulesToSave.length === 0) return null;
  const parts = key.split(".");
  for (let i = 1; i < parts.length; i++) {
    const module = parts.slice(0, i).join(".");
    if (matchesModuleList(module, modulesToSave)) return module;
  }
  return null;
}

/** PEFT's default layer-block names, used when `layers_to_transform` is set without `layers_pattern`. */
const DEFAULT_LAYERS_PATTERN = "[^.]*";

/** The block index of a module name (`transformer.h.3.attn.c_attn` -> 3), or undefined. */
export function layerIndexOf(name: string, layersPattern: string | string[] | null): number | undefined {
  const patterns =
    layersPattern === null
      ? [DEFAULT_LAYERS_PATTERN]
      : typeof layersPattern === "string"
        ? [layersPattern]
        : layersPattern;
  for (const p of patterns) {
    const m = new RegExp(`^(?:.*\\.)?(?:${p})\\.(\\d+)\\.`).exec(name);
    if (m?.[1] !== undefined) return Number(m[1]);
  }
  return undefined;
}

/**
 * Whether `name` is a LoRA target under `config`. `isOutputHead` decides what `"all-linear"` leaves out.
 * Excludes win over targets; `layers_to_transform` filters by block index.
 */
export function isTargetModule(name: string, config: LoraConfig, isOutputHead = false): boolean {
  const t = config.target_modules;
  if (t === null) return false;
  if (t === "all-linear") {
    if (isOutputHead) return false;
  } else if (!matchesModuleList(name, t)) return false;
  if (config.exclude_modules !== null && matchesModuleList(name, config.exclude_modules)) return false;
  const layers = config.layers_to_transform;
  if (layers !== null) {
    const idx = layerIndexOf(name, config.layers_pattern);
    if (idx === undefined) return false;
    if (typeof layers === "number" ? idx !== layers : !layers.includes(idx)) return false;
  }
  return true;
}

/** The `rank_pattern` / `alpha_pattern` key that applies to `name`: exact name first, then the first key `k` with `^(.*\.)?(k)$` matching. */
export function patternKeyFor(keys: string[], name: string): string | undefined {
  if (keys.includes(name)) return name;
  return keys.find((k) => new RegExp(`^(?:.*\\.)?(?:${k})$`).test(name));
}

/** Rank and alpha for one module, after `rank_pattern` and `alpha_pattern`. */
export function rankAndAlphaFor(name: string, config: LoraConfig): { r: number; alpha: number } {
  const rk = patternKeyFor(Object.keys(config.rank_pattern), name);
  const ak = patternKeyFor(Object.keys(config.alpha_pattern), name);
  return {
    r: rk === undefined ? config.r : (config.rank_pattern[rk] as number),
    alpha: ak === undefined ? config.lora_alpha : (config.alpha_pattern[ak] as number),
  };
}
