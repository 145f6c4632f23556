import { FormatError } from "../errors.js";
import { dict } from "../peft/dict.js";
import type { TensorInfo } from "../safetensors/parseSafetensorsHeader.js";
import { type BaseManifest, buildManifest, type ModuleLayout } from "./BaseManifest.js";
import { architectureOf, backbonePrefix, type HfConfig, tiedHeads } from "./manifestFromConfig.js";

const EMBEDDING = /(?:^|\.)(?:wte|wpe|embed_tokens|\w+_embeddings|embed_positions|shared)$/;
const CONV1D = /(?:^|\.)(?:c_attn|c_proj|c_fc|q_attn)$/;

/** Layout of a module from its name and model type (GPT-2 family: Conv1D for c_attn/c_proj/c_fc). */
export function layoutOf(module: string, modelType: string): ModuleLayout {
  if (EMBEDDING.test(module)) return "embedding";
  if ((modelType === "gpt2" || modelType === "gpt_bigcode" || modelType === "dialogpt") && CONV1D.test(module))
    return "conv1d";
  return "linear";
}

/**
 * A base manifest from `config.json` plus a safetensors header (the tensor table only; no weight is
 * read): every 2-D `<module>.weight` is a module. Tied heads missing from the checkpoint
 * (`lm_head` of GPT2LMHeadModel...) are added with `tiedTo`, as `manifestFromConfig` does.
 */
export function manifestFromHeader(
  config: HfConfig,
  tensors: ReadonlyMap<string, Pick<TensorInfo, "shape">> | Readonly<Record<string, Pick<TensorInfo, "shape">>>,
): BaseManifest {
  const modelType = typeof config.model_type === "string" ? config.model_type : "";
  const arch = architectureOf(config, modelType || "unknown");
  const entries = tensors instanceof Map ? [...tensors] : Object.entries(tensors);
  const modules = dict<{ shape: number[]; layout: ModuleLayout; tiedTo?: string }>();
  for (const [name, info] of entries) {
    if (!name.endsWith(".weight") || info.shape.length !== 2) continue;
    const module = name.slice(0, -".weight".length);
    modules[module] = { shape: info.shape.map(Number), layout: layoutOf(module, modelType) };
  }
  if (Object.keys(modules).length === 0) {
    throw new FormatError(
      "NoMatchingModules",
      `base checkpoint: expected 2-D <module>.weight tensors, found none among ${entries.length} tensors`,
    );
  }
  const p = backbonePrefix(modelType, arch);
  for (const [head, target] of Object.entries(tiedHeads(modelType, arch, config, p))) {
    const t = modules[target];
    if (t && !modules[head]) modules[head] = { shape: [...t.shape], layout: "linear", tiedTo: target };
  }
  return buildManifest(arch, modelType, modules);
}
