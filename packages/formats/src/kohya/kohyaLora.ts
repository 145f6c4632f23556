import { decodeToFloat32, encodeFromFloat32 } from "../dtypeDecode.js";
import { encodeRounded } from "../dtypeRound.js";
import { FormatError } from "../errors.js";
import { dict } from "../peft/dict.js";
import type { PeftAdapter, PeftConfig, PeftModuleWeights } from "../peft/PeftAdapter.js";
import { rankAndAlpha } from "../peft/parsePeftConfig.js";
import type { Tensor } from "../safetensors/SafetensorsFile.js";
import { knownKohyaModule } from "./kohyaModuleTables.js";
import { kohyaFlatName, splitKohyaName } from "./kohyaNames.js";

const KEY = /^(lora_(?:unet|te\d?|transformer))_(.+)\.(lora_down\.weight|lora_up\.weight|alpha)$/;

/** Whether tensor names look like a kohya / sd-scripts LoRA (`lora_unet_..._lora_down.weight`). */
export function isKohyaLora(names: Iterable<string>): boolean {
  for (const n of names) if (KEY.test(n)) return true;
  return false;
}

export interface KohyaToPeftOptions {
  /**
   * Module names of the base, per component prefix (`lora_unet`, `lora_te`, `lora_te1`...), or one
   * list for all: used to turn `down_blocks_0_..._to_q` back into `down_blocks.0....to_q` exactly.
   * Without it a naming heuristic is used (and reported in the warnings).
   */
  moduleNames?: readonly string[] | Readonly<Record<string, readonly string[]>>;
  baseModel?: string | null;
  /**
   * The kohya file's safetensors `__metadata__`: its sd-scripts keys (`ss_*`, `modelspec.*`,
   * `sshs_*`) are kept in each PEFT adapter's metadata, so {@link peftToKohya} writes them back.
   */
  metadata?: Readonly<Record<string, string>> | null;
}

/** Whether a safetensors metadata key is one sd-scripts writes (training settings, model spec, hashes). */
export function isSdScriptsMetadataKey(key: string): boolean {
  return key.startsWith("ss_") || key.startsWith("modelspec.") || key.startsWith("sshs_");
}

function sdScriptsMetadata(metadata: Readonly<Record<string, string>> | null | undefined): Record<string, string> {
  const out = dict<string>();
  for (const [k, v] of Object.entries(metadata ?? {})) if (isSdScriptsMetadataKey(k)) out[k] = v;
  return out;
}

function mostCommon(values: number[]): number {
  const counts = new Map<number, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]?.[0] ?? 0;
}

function scalar(t: Tensor, key: string): number {
  const v = decodeToFloat32(t.dtype, t.data, { copy: true });
  if (v.length !== 1 || !Number.isFinite(v[0]))
    throw new FormatError(
      "InvalidTensorData",
      `kohya: expected ${key} to hold one finite number, found ${v.length} values`,
    );
  return v[0] as number;
}

/**
 * kohya-style LoRA tensors -> one PEFT adapter per component (`lora_unet` -> `unet`, `lora_te` ->
 * `te`, `lora_te1`/`lora_te2` for SDXL). lora_down is A, lora_up is B (same bytes, same shapes,
 * conv included). Per-module `.alpha` becomes lora_alpha (the most common) plus alpha_pattern for
 * the others; a missing `.alpha` or an `.alpha` of 0 means alpha = rank (as sd-scripts reads it,
 * scale 1). Ranks that differ go into rank_pattern. target_modules lists the full module names.
 * Module names come from `moduleNames` when given, else from the SD 1.x/2.x/SDXL and CLIP tables
 * (`knownKohyaModule`), else from the underscore heuristic (with a warning). The file's sd-scripts
 * metadata (`options.metadata`) is kept in each adapter's safetensors metadata.
 */
export function kohyaToPeft(
  tensors: Readonly<Record<string, Tensor>>,
  options: KohyaToPeftOptions = {},
): { adapters: Record<string, PeftAdapter>; warnings: string[] } {
  const warnings: string[] = [];
  const groups = new Map<string, Map<string, { down?: Tensor; up?: Tensor; alpha?: number }>>();
  for (const [key, t] of Object.entries(tensors)) {
    const m = KEY.exec(key);
    if (!m) {
      warnings.push(`kohya: ${key} is not a LoRA down/up/alpha tensor (LoHa, LoKr, DoRA scale...); dropped`);
      continue;
    }
    const [, prefix, flat, part] = m as unknown as [string, string, string, string];
    const group = groups.get(prefix) ?? new Map();
    const slot = group.get(flat) ?? {};
    if (part === "alpha") slot.alpha = scalar(t, key);
    else if (part.startsWith("lora_down")) slot.down = t;
    else slot.up = t;
    group.set(flat, slot);
    groups.set(prefix, group);
  }
  if (groups.size === 0)
    throw new FormatError(
      "UnknownFormat",
      "kohya: expected tensors named lora_unet_/lora_te_<module>.lora_down.weight, found none",
    );

  const adapters = dict<PeftAdapter>();
  for (const [prefix, group] of groups) {
    const known = options.moduleNames
      ? Array.isArray(options.moduleNames)
        ? options.moduleNames
        : (options.moduleNames as Record<string, readonly string[]>)[prefix]
      : undefined;
    const byFlat = new Map((known ?? []).map((n) => [kohyaFlatName(n), n]));
    const modules = dict<PeftModuleWeights>();
    const ranks = dict<number>();
    const alphas = dict<number>();
    let guessed = 0;
    for (const [flat, s] of group) {
      if (!s.down || !s.up)
        throw new FormatError(
          "InvalidConfig",
          `kohya: expected both lora_down and lora_up for ${prefix}_${flat}, found only ${s.down ? "lora_down" : "lora_up"}`,
        );
      const r = s.down.shape[0] ?? 0;
      if (s.up.shape[1] !== r || s.down.shape.length !== s.up.shape.length) {
        throw new FormatError(
          "ShapeMismatch",
          `kohya: expected ${prefix}_${flat} lora_down [r, in...] and lora_up [out, r...], found [${s.down.shape}] and [${s.up.shape}]`,
        );
      }
      let module = byFlat.get(flat) ?? knownKohyaModule(prefix, flat);
      if (!module) {
        if (known) warnings.push(`kohya: ${prefix}_${flat} matches none of the given module names; name guessed`);
        module = splitKohyaName(flat);
        guessed++;
      }
      modules[module] = { kind: "lora", A: s.down, B: s.up };
      ranks[module] = r;
      // sd-scripts: alpha None or 0 means alpha = rank (scale 1).
      alphas[module] = s.alpha === undefined || s.alpha === 0 ? r : s.alpha;
    }
    if (guessed > 0 && !known)
      warnings.push(
        `kohya ${prefix}: ${guessed} module names are in none of the SD 1.x/2.x/SDXL tables and were recovered with the underscore heuristic (pass moduleNames to be exact)`,
      );
    const r = mostCommon(Object.values(ranks));
    const alpha = mostCommon(Object.values(alphas));
    const rankPattern = dict<number>();
    const alphaPattern = dict<number>();
    for (const m of Object.keys(modules)) {
      if (ranks[m] !== r) rankPattern[m] = ranks[m] as number;
      if (alphas[m] !== alpha) alphaPattern[m] = alphas[m] as number;
    }
    const config: PeftConfig = {
      peft_type: "LORA",
      r,
      lora_alpha: alpha,
      target_modules: Object.keys(modules).sort(),
      fan_in_fan_out: false,
      rank_pattern: rankPattern,
      alpha_pattern: alphaPattern,
      modules_to_save: null,
      use_rslora: false,
      base_model_name_or_path: options.baseModel ?? null,
      task_type: null,
      bias: "none",
      lora_dropout: 0,
      inference_mode: true,
    };
    const component = prefix.slice("lora_".length);
    adapters[component] = {
      config,
      modules,
      modulesToSave: {},
      otherTensors: {},
      metadata: { format: "pt", ...sdScriptsMetadata(options.metadata) },
      modelCard: null,
    };
  }
  return { adapters, warnings };
}

/**
 * A PEFT adapter -> kohya-style tensors under `prefix` (`lora_unet` by default): A as lora_down,
 * B as lora_up, each module's alpha (alpha_pattern applied; rsLoRA folded in as alpha·sqrt(r)) as
 * a scalar `.alpha` in lora_up's dtype, as sd-scripts saves it. A module with alpha 0 (PEFT scale 0)
 * gets zeros in lora_up and alpha = r, since sd-scripts reads alpha 0 as scale 1. The adapter's
 * sd-scripts metadata is written back, so kohya -> PEFT -> kohya gives the file's bytes back.
 * Lossy: modules_to_save, LoRA biases, embedding LoRA and other tensors have no kohya form and are
 * dropped with a warning; module names lose their dots.
 */
export function peftToKohya(
  adapter: PeftAdapter,
  options: { prefix?: string } = {},
): { tensors: Record<string, Tensor>; metadata: Record<string, string>; warnings: string[] } {
  const prefix = options.prefix ?? "lora_unet";
  if (!/^lora_(?:unet|te\d?|transformer)$/.test(prefix))
    throw new FormatError(
      "InvalidConfig",
      `kohya: expected prefix lora_unet, lora_te, lora_te1, lora_te2 or lora_transformer, found ${JSON.stringify(prefix)}`,
    );
  const warnings: string[] = [];
  const tensors = dict<Tensor>();
  for (const [module, w] of Object.entries(adapter.modules)) {
    if (w.kind === "embedding") {
      warnings.push(`kohya: embedding LoRA on ${module} has no kohya form; dropped`);
      continue;
    }
    if (w.bias) warnings.push(`kohya: lora_B bias of ${module} has no kohya form; dropped`);
    const key = `${prefix}_${kohyaFlatName(module)}`;
    const { r, alpha } = rankAndAlpha(module, adapter.config);
    let effective = adapter.config.use_rslora ? alpha * Math.sqrt(r) : alpha;
    let up = w.B;
    if (effective === 0) {
      // sd-scripts reads alpha 0 as alpha = rank (scale 1): keep PEFT's scale 0 in lora_up instead.
      warnings.push(
        `kohya: ${module} has alpha 0 (PEFT scale 0), which sd-scripts reads as scale 1; lora_up written as zeros with alpha = rank`,
      );
      effective = r;
      up = { dtype: w.B.dtype, shape: w.B.shape, data: new Uint8Array(w.B.data.length) };
    }
    tensors[`${key}.lora_down.weight`] = w.A;
    tensors[`${key}.lora_up.weight`] = up;
    // sd-scripts saves every tensor, .alpha included, in one dtype (its save precision): lora_up's.
    const alphaDtype = up.dtype === "F16" || up.dtype === "BF16" || up.dtype === "F64" ? up.dtype : "F32";
    tensors[`${key}.alpha`] = {
      dtype: alphaDtype,
      shape: [],
      data: alphaDtype === "F64" ? encodeFromFloat32("F64", [effective]) : encodeRounded(alphaDtype, [effective]),
    };
  }
  if (Object.keys(tensors).length === 0)
    throw new FormatError("NoMatchingModules", "kohya: expected at least one linear or conv LoRA module, found none");
  if (Object.keys(adapter.modulesToSave).length > 0)
    warnings.push(`kohya: modules_to_save (${Object.keys(adapter.modulesToSave).join(", ")}) dropped`);
  if (Object.keys(adapter.otherTensors).length > 0)
    warnings.push(`kohya: ${Object.keys(adapter.otherTensors).length} non-LoRA tensors dropped`);
  // The sd-scripts metadata the adapter came with (kohya -> PEFT keeps it) unchanged, else the keys
  // sd-scripts writes to describe a LoRA.
  const kept = sdScriptsMetadata(adapter.metadata);
  const metadata =
    Object.keys(kept).length > 0
      ? kept
      : {
          ss_network_module: "networks.lora",
          ss_network_dim: String(adapter.config.r),
          ss_network_alpha: String(adapter.config.lora_alpha),
        };
  return { tensors, metadata, warnings };
}
