import { FormatError } from "../errors.js";
import { dict } from "../peft/dict.js";
import { type BaseManifest, buildManifest } from "./BaseManifest.js";
import { DENSE_MODEL_TYPE, denseKernels } from "./denseManifest.js";
import { CONFIG_MODEL_TYPES, type HfConfig } from "./manifestFromConfig.js";

/**
 * Whether a config + tensor names stand for a tfjs-layers-named model other than a plain Dense stack
 * (the runtime's `CharSeq2Seq`...): a `model_type` other than `dense` and other than the Hugging Face
 * families built from `config.json` (GPT-2, BERT, Llama...), at least one `<layer>.kernel` tensor and
 * no `<module>.weight` tensor (Hugging Face checkpoints name every weight `.weight`).
 */
export function isKernelModel(config: HfConfig, names: Iterable<string>): boolean {
  const type = config.model_type;
  if (typeof type !== "string" || type === DENSE_MODEL_TYPE || CONFIG_MODEL_TYPES.includes(type)) return false;
  let kernel = false;
  for (const n of names) {
    if (n.endsWith(".weight")) return false;
    if (n.endsWith(".kernel")) kernel = true;
  }
  return kernel;
}

/**
 * The manifest of a tfjs-layers-named model: one module per 2-D `<module>.kernel` [in, out] tensor
 * (layout `conv1d`: stored [in, out]); embeddings (`.embeddings`), norms (`.gamma`/`.beta`) and biases
 * are not modules. Architecture `architectures[0]` of `config.json` (else the model type), model type
 * `model_type`. A model's own `manifest()` passes the kernels it loaded, so the digests agree.
 */
export function kernelManifest(config: HfConfig, shapes: ReadonlyMap<string, readonly number[]>): BaseManifest {
  const modelType = typeof config.model_type === "string" ? config.model_type : "";
  const first = Array.isArray(config.architectures) ? config.architectures[0] : undefined;
  const architecture = typeof first === "string" && first ? first : modelType;
  const modules = dict<{ shape: number[]; layout: "conv1d" }>();
  for (const [module, shape] of denseKernels(shapes)) {
    if (shape.length !== 2)
      throw new FormatError(
        "ShapeMismatch",
        `base checkpoint: expected '${module}.kernel' to be 2-D [in, out], found [${shape}]`,
      );
    modules[module] = { shape: [...shape], layout: "conv1d" };
  }
  if (!modelType || Object.keys(modules).length === 0)
    throw new FormatError(
      "NoMatchingModules",
      `base checkpoint: expected a model_type and 2-D <module>.kernel tensors, found ${modelType ? "no kernel" : "no model_type"}`,
    );
  return buildManifest(architecture, modelType, modules);
}
