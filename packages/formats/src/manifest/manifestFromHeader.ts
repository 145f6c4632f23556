import { FormatError } from "../errors.js";
import { dict } from "../peft/dict.js";
import type { TensorInfo } from "../safetensors/parseSafetensorsHeader.js";
import { type BaseManifest, buildManifest, type ModuleLayout } from "./BaseManifest.js";
import { denseKernels, denseManifest, isDenseStack } from "./denseManifest.js";
import { isKernelModel, kernelManifest } from "./kernelManifest.js";
import { type HfConfig, manifestForArchitecture, tiedHeads } from "./manifestFromConfig.js";
import { resolveArchitecture } from "./resolveArchitecture.js";

const EMBEDDING = /(?:^|\.)(?:wte|wpe|embed_tokens|\w+_embeddings|embed_positions|shared)$/;
const CONV1D = /(?:^|\.)(?:c_attn|c_proj|c_fc|q_attn)$/;
/** Families the runtime builds: their manifest is the modules it builds, checked against the header. */
const BUILT = ["gpt2", "bert"];
const BACKBONE_PREFIXES = ["transformer.", "bert."];

/**
 * Model types whose Hugging Face checkpoints hold `transformers`' Conv1D ([in, out]) weights, the
 * layout PEFT reads with `fan_in_fan_out: true`. tfjs kernels are [in, out] too (layout `conv1d`
 * in their manifests) but are not Conv1D modules, and their adapters keep `fan_in_fan_out: false`.
 */
export const CONV1D_MODEL_TYPES: readonly string[] = ["gpt2", "gpt_bigcode", "dialogpt"];

/** Layout of a module from its name and model type (GPT-2 family: Conv1D for c_attn/c_proj/c_fc). */
export function layoutOf(module: string, modelType: string): ModuleLayout {
  if (EMBEDDING.test(module)) return "embedding";
  if (CONV1D_MODEL_TYPES.includes(modelType) && CONV1D.test(module)) return "conv1d";
  return "linear";
}

type Shapes = ReadonlyMap<string, Pick<TensorInfo, "shape">> | Readonly<Record<string, Pick<TensorInfo, "shape">>>;

/**
 * A base manifest from `config.json` plus a safetensors header (the tensor table only; no weight is
 * read). For GPT-2 and BERT, the families the runtime builds, it is the manifest of what the runtime
 * builds (`manifestFromConfig` with the class resolved from `architectures` or the tensor names), and
 * every module's weight must be in the header with that shape (`ShapeMismatch` otherwise). For other
 * families every 2-D `<module>.weight` is a module. Tied heads missing from the checkpoint
 * (`lm_head` of GPT2LMHeadModel...) are listed with `tiedTo`. A tfjs Dense stack (`<layer>.kernel`
 * [in, out] tensors, `model_type` absent or `dense`) gives the `DenseClassifier` manifest
 * ({@link denseManifest}), the one the runtime's `DenseClassifier` reports; other tfjs-layers-named
 * models (a `model_type`, `.kernel` tensors and no `.weight`) give {@link kernelManifest}.
 */
export function manifestFromHeader(config: HfConfig, tensors: Shapes): BaseManifest {
  const entries = tensors instanceof Map ? [...tensors] : Object.entries(tensors);
  const shapes = new Map(entries.map(([name, info]) => [name, info.shape.map(Number)]));
  if (isDenseStack(config, shapes.keys())) return denseManifest(config, denseKernels(shapes));
  if (isKernelModel(config, shapes.keys())) return kernelManifest(config, shapes);
  const resolved = resolveArchitecture(config, (name) => shapes.has(name));
  const { modelType, architecture, prefix } = resolved;
  if (BUILT.includes(modelType)) {
    const manifest = manifestForArchitecture(config, resolved);
    for (const [module, m] of Object.entries(manifest.modules)) {
      if (m.tiedTo) continue;
      const found = weightShape(shapes, `${module}.weight`);
      if (!found || found.join("x") !== m.shape.join("x")) {
        throw new FormatError(
          "ShapeMismatch",
          `base checkpoint: expected ${module}.weight [${m.shape}] for ${architecture} from config.json, found ${found ? `[${found}]` : "none"}`,
        );
      }
    }
    return manifest;
  }
  const modules = dict<{ shape: number[]; layout: ModuleLayout; tiedTo?: string }>();
  for (const [name, shape] of shapes) {
    if (!name.endsWith(".weight") || shape.length !== 2) continue;
    const module = name.slice(0, -".weight".length);
    modules[module] = { shape, layout: layoutOf(module, modelType) };
  }
  if (Object.keys(modules).length === 0) {
    throw new FormatError(
      "NoMatchingModules",
      `base checkpoint: expected 2-D <module>.weight tensors, found none among ${entries.length} tensors`,
    );
  }
  for (const [head, target] of Object.entries(tiedHeads(modelType, architecture, config, prefix))) {
    const t = modules[target];
    if (t && !modules[head]) modules[head] = { shape: [...t.shape], layout: "linear", tiedTo: target };
  }
  return buildManifest(architecture, modelType, modules);
}

/** A weight's shape, found as named or with / without the backbone prefix (checkpoints store either). */
function weightShape(shapes: ReadonlyMap<string, number[]>, name: string): number[] | undefined {
  const direct = shapes.get(name);
  if (direct) return direct;
  for (const p of BACKBONE_PREFIXES) {
    const other = name.startsWith(p) ? shapes.get(name.slice(p.length)) : shapes.get(p + name);
    if (other) return other;
  }
  return undefined;
}
