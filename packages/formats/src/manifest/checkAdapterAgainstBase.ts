import { FormatError } from "../errors.js";
import { dict } from "../peft/dict.js";
import { isTargetModule } from "../peft/moduleMatch.js";
import type { PeftAdapter } from "../peft/PeftAdapter.js";
import type { BaseManifest, ManifestModule } from "./BaseManifest.js";
import { CONV1D_MODEL_TYPES } from "./manifestFromHeader.js";
import { isOutputHeadModule } from "./outputHead.js";

/** One way an adapter does not fit a base, with what was expected and what was found. */
export interface AdapterMismatch {
  module: string;
  reason: "missing-module" | "shape" | "kind";
  /** Expected factor shapes (PEFT layout), or null when the base has no such module. */
  expected: { A: number[]; B: number[] } | null;
  actual: { A: number[]; B: number[] };
  message: string;
}

export interface AdapterCheck {
  ok: boolean;
  /** Adapter module -> the base module it resolved to. */
  matched: Record<string, string>;
  mismatches: AdapterMismatch[];
  /** Things PEFT would fix or ignore on its own (fan_in_fan_out on the wrong layout...). */
  warnings: string[];
}

const PREFIXES = ["transformer.", "model.", "bert."];

/**
 * The base module an adapter module refers to: the same name, or the same name with / without the
 * backbone prefix (`transformer.h.0.attn.c_attn` on a GPT2Model base is `h.0.attn.c_attn`).
 */
export function resolveModule(manifest: BaseManifest, module: string): string | undefined {
  if (manifest.modules[module]) return module;
  for (const p of PREFIXES) {
    if (module.startsWith(p) && manifest.modules[module.slice(p.length)]) return module.slice(p.length);
    if (manifest.modules[p + module]) return p + module;
  }
  return undefined;
}

function expectedShapes(
  m: Pick<ManifestModule, "inFeatures" | "outFeatures">,
  r: number,
): { A: number[]; B: number[] } {
  // PEFT: lora_A is Linear(in, r) -> [r, in]; lora_B Linear(r, out) -> [out, r]; for Conv1D too
  // (fan_in_fan_out only changes how the base weight is read). Embedding: A [r, num], B [dim, r].
  return { A: [r, m.inFeatures], B: [m.outFeatures, r] };
}

const same = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/** A module's LoRA factors as a fit check needs them: kind and the two shapes (PEFT layouts). */
export interface FactorShapes {
  kind: "lora" | "embedding";
  A: readonly number[];
  B: readonly number[];
}

/**
 * The one adapter-vs-base check for a single module: why factors of these shapes do not fit module
 * `base` of `manifest` (module missing, LoRA kind vs embedding, or shapes), or null when they fit.
 * `module` is the adapter's name for it, used in the message.
 */
export function checkModuleAgainstBase(
  manifest: BaseManifest,
  module: string,
  base: string | undefined,
  w: FactorShapes,
): AdapterMismatch | null {
  const actual = { A: [...w.A], B: [...w.B] };
  const m = base === undefined ? undefined : manifest.modules[base];
  if (!m) {
    return {
      module,
      reason: "missing-module",
      expected: null,
      actual,
      message: `module ${module}: expected one of the ${Object.keys(manifest.modules).length} modules of ${manifest.architecture}, found none by that name`,
    };
  }
  return factorMismatch(module, m, w);
}

/**
 * Why LoRA factors of these shapes do not fit one base module (`m`: its layout and features, as a
 * manifest lists them, or as a loaded model holds them), or null when they fit: `lora_A [r, in]` and
 * `lora_B [out, r]` for linear and Conv1D weights, `lora_embedding_A [r, rows]` and `B [dim, r]` for
 * embeddings.
 */
export function factorMismatch(
  module: string,
  m: Pick<ManifestModule, "layout" | "inFeatures" | "outFeatures" | "shape">,
  w: FactorShapes,
): AdapterMismatch | null {
  const actual = { A: [...w.A], B: [...w.B] };
  const expected = expectedShapes(m, w.A[0] ?? 0);
  if ((m.layout === "embedding") !== (w.kind === "embedding")) {
    return {
      module,
      reason: "kind",
      expected,
      actual,
      message: `module ${module}: expected ${m.layout === "embedding" ? "lora_embedding_A/B" : "lora_A/lora_B"} for a ${m.layout} module, found ${w.kind === "embedding" ? "lora_embedding_A/B" : "lora_A/lora_B"}`,
    };
  }
  if (!same(actual.A, expected.A) || !same(actual.B, expected.B)) {
    return {
      module,
      reason: "shape",
      expected,
      actual,
      message: `module ${module}: expected lora_A [${expected.A}] and lora_B [${expected.B}] for ${m.layout} weight [${m.shape}], found [${actual.A}] and [${actual.B}]`,
    };
  }
  return null;
}

/**
 * Checks every module of `adapter` against `manifest` and reports every problem (module name,
 * expected and actual shapes), not just the first. Which modules the config targets follows PEFT's
 * rule ({@link isTargetModule}: `"all-linear"` leaves out the output head, `exclude_modules` and
 * `layers_to_transform` apply); factors of a module the config does not target are a warning (PEFT
 * never loads them). An adapter none of whose modules exists in the base as a target of its config
 * is refused with `NoMatchingModules`: loading it would silently do nothing.
 */
export function checkAdapterAgainstBase(adapter: PeftAdapter, manifest: BaseManifest): AdapterCheck {
  const matched = dict<string>();
  const mismatches: AdapterMismatch[] = [];
  const warnings: string[] = [];
  const config = adapter.config;
  // Only transformers' Conv1D (GPT-2 family) is read with fan_in_fan_out; tfjs kernels are [in, out] too but are not.
  const conv1d = CONV1D_MODEL_TYPES.includes(manifest.modelType);
  // PEFT matches the model's full name; an adapter's name and the base's may differ by a backbone prefix.
  const isTarget = (module: string, base: string) => {
    const m = manifest.modules[base];
    if (!m || (config.target_modules === "all-linear" && m.layout === "embedding")) return false;
    const head = isOutputHeadModule(manifest, base);
    return isTargetModule(base, config, head) || isTargetModule(module, config, head);
  };
  const modules = Object.entries(adapter.modules);
  let matchedTargets = 0;
  for (const [module, w] of modules) {
    const base = resolveModule(manifest, module);
    const problem = checkModuleAgainstBase(manifest, module, base, { kind: w.kind, A: w.A.shape, B: w.B.shape });
    if (base !== undefined) matched[module] = base;
    if (problem) mismatches.push(problem);
    if (base === undefined) continue;
    if (config.target_modules == null || isTarget(module, base)) matchedTargets++;
    else
      warnings.push(
        `module ${module} holds LoRA factors but is not a target of target_modules ${JSON.stringify(config.target_modules)}${isOutputHeadModule(manifest, base) ? " (PEFT's all-linear leaves out the output head)" : ""}; PEFT does not load them`,
      );
    if (problem?.reason === "kind") continue;
    const m = manifest.modules[base] as ManifestModule;
    if (conv1d && m.layout === "conv1d" && !config.fan_in_fan_out)
      warnings.push(`module ${module} is a Conv1D ([in, out]) but fan_in_fan_out is false; PEFT sets it to true`);
    if (m.layout === "linear" && config.fan_in_fan_out)
      warnings.push(`module ${module} is nn.Linear ([out, in]) but fan_in_fan_out is true; PEFT sets it to false`);
  }
  if (matchedTargets === 0) {
    throw new FormatError(
      "NoMatchingModules",
      `adapter: expected its modules (${modules.length}, target_modules ${JSON.stringify(config.target_modules)}) to match target modules of ${manifest.architecture} (${manifest.digest.slice(0, 12)}), found ${Object.keys(matched).length} matching modules, ${matchedTargets} of them targets`,
    );
  }
  return { ok: mismatches.length === 0, matched, mismatches, warnings };
}

/** {@link checkAdapterAgainstBase}, throwing `ShapeMismatch` with every problem listed when it does not fit. */
export function assertAdapterFitsBase(adapter: PeftAdapter, manifest: BaseManifest): AdapterCheck {
  const check = checkAdapterAgainstBase(adapter, manifest);
  if (!check.ok) {
    throw new FormatError(
      "ShapeMismatch",
      `adapter does not fit ${manifest.architecture}: ${check.mismatches.length} problems\n${check.mismatches.map((m) => m.message).join("\n")}`,
    );
  }
  return check;
}
