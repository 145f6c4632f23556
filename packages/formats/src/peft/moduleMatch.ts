/**
 * PEFT's rules for which modules a LoRA config touches, in one place for every package: target and
 * exclude lists, `all-linear`, `layers_to_transform`, `rank_pattern` / `alpha_pattern` keys and
 * `modules_to_save` ownership. Module names are Hugging Face names (`transformer.h.0.attn.c_attn`).
 */

/** The config fields the matching rules read (a `PeftConfig` has them all). */
export interface ModuleMatchConfig {
  target_modules: string | string[] | null;
  exclude_modules?: string | string[] | null;
  layers_to_transform?: number | number[] | null;
  layers_pattern?: string | string[] | null;
}

/**
 * PEFT's module matching: a string is a regular expression that must match the whole name; a list
 * matches a name equal to an entry or ending in `.` + entry. A string that does not compile matches
 * nothing (`parsePeftConfig` refuses such configs before they get here).
 */
export function matchesTarget(module: string, targets: string[] | string | null | undefined): boolean {
  if (targets == null) return false;
  if (typeof targets === "string") {
    const re = compile(`^(?:${targets})$`);
    return re ? re.test(module) : false;
  }
  return targets.some((t) => module === t || module.endsWith(`.${t}`));
}

function compile(source: string): RegExp | null {
  try {
    return new RegExp(source);
  } catch {
    return null;
  }
}

/**
 * PEFT's `get_pattern_key`: the pattern keys are tried in their order in the file, and the first key
 * `k` for which `(.*\.)?(k)$` matches the module name from its start wins. So with
 * `{"c_attn": 4, "h.0.attn.c_attn": 2}` the module `h.0.attn.c_attn` gets 4, as in PEFT.
 */
export function patternKeyFor(keys: readonly string[], module: string): string | undefined {
  return keys.find((k) => compile(`^(?:.*\\.)?(?:${k})$`)?.test(module) ?? false);
}

/** The value `pattern` gives `module` under {@link patternKeyFor}, or undefined. */
export function patternValue(module: string, pattern: Readonly<Record<string, number>>): number | undefined {
  const key = patternKeyFor(Object.keys(pattern), module);
  return key === undefined ? undefined : pattern[key];
}

/** PEFT's default layer-block names, used when `layers_to_transform` is set without `layers_pattern`. */
const DEFAULT_LAYERS_PATTERN = "[^.]*";

/** The block index of a module name (`transformer.h.3.attn.c_attn` -> 3), or undefined. */
export function layerIndexOf(name: string, layersPattern: string | string[] | null | undefined): number | undefined {
  const patterns =
    layersPattern == null
      ? [DEFAULT_LAYERS_PATTERN]
      : typeof layersPattern === "string"
        ? [layersPattern]
        : layersPattern;
  for (const p of patterns) {
    const m = compile(`^(?:.*\\.)?(?:${p})\\.(\\d+)\\.`)?.exec(name);
    if (m?.[1] !== undefined) return Number(m[1]);
  }
  return undefined;
}

/**
 * Whether `name` is a LoRA target under `config`. `isOutputHead` decides what `"all-linear"` leaves
 * out. Excludes win over targets; `layers_to_transform` filters by block index.
 */
export function isTargetModule(name: string, config: ModuleMatchConfig, isOutputHead = false): boolean {
  const t = config.target_modules;
  if (t === null) return false;
  if (t === "all-linear") {
    if (isOutputHead) return false;
  } else if (!matchesTarget(name, t)) return false;
  if (config.exclude_modules != null && matchesTarget(name, config.exclude_modules)) return false;
  const layers = config.layers_to_transform;
  if (layers != null) {
    const idx = layerIndexOf(name, config.layers_pattern);
    if (idx === undefined) return false;
    if (typeof layers === "number" ? idx !== layers : !layers.includes(idx)) return false;
  }
  return true;
}

/**
 * The `modules_to_save` module that owns parameter `key` (`classifier.out_proj.weight` belongs to
 * `classifier` for `["classifier"]`): PEFT wraps whole modules, containers included, so any dotted
 * prefix of the parameter's module path may match. Null when none does.
 */
export function savedModuleOf(key: string, modulesToSave: readonly string[] | null | undefined): string | null {
  if (!modulesToSave || modulesToSave.length === 0) return null;
  const parts = key.split(".");
  for (let i = 1; i < parts.length; i++) {
    const module = parts.slice(0, i).join(".");
    if (matchesTarget(module, [...modulesToSave])) return module;
  }
  return null;
}
