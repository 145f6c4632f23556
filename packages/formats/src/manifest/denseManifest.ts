import { FormatError } from "../errors.js";
import { dict } from "../peft/dict.js";
import { type BaseManifest, buildManifest } from "./BaseManifest.js";
import type { HfConfig } from "./manifestFromConfig.js";

/** The class name a Dense-stack base reports (the runtime's `DenseClassifier`). */
export const DENSE_ARCHITECTURE = "DenseClassifier";
/** The model type of a Dense-stack base. */
export const DENSE_MODEL_TYPE = "dense";

const KERNEL = ".kernel";

/**
 * Whether a config + tensor names stand for a tfjs Dense stack (`<layer>.kernel` [in, out] tensors,
 * as the example recipes save their classifiers): `model_type` absent or `dense`, and a kernel tensor.
 */
export function isDenseStack(config: HfConfig, names: Iterable<string>): boolean {
  const type = config.model_type;
  if (type !== undefined && type !== DENSE_MODEL_TYPE) return false;
  for (const n of names) if (n.endsWith(KERNEL)) return true;
  return false;
}

/** The layer names `config.json`'s `layers` lists ([{name}] or names), when it lists them. */
function configLayers(config: HfConfig): string[] | undefined {
  if (!Array.isArray(config.layers)) return undefined;
  return (config.layers as unknown[]).map((l) => {
    const name = typeof l === "string" ? l : (l as { name?: unknown } | null)?.name;
    if (typeof name !== "string")
      throw new FormatError(
        "InvalidConfig",
        `config.json layers: expected layer names or {name} objects, found ${JSON.stringify(l)}`,
      );
    return name;
  });
}

/**
 * The manifest of a Dense stack from its kernel shapes: one module per layer (`config.json`'s `layers`
 * when it lists them, else every `<layer>.kernel`), layout `conv1d` (the kernel is stored [in, out]),
 * architecture `DenseClassifier`, model type `dense`. The runtime's `DenseClassifier.manifest()` is
 * this function over the layers it loaded, so the digests agree.
 */
export function denseManifest(config: HfConfig, kernels: ReadonlyMap<string, readonly number[]>): BaseManifest {
  const layers = configLayers(config) ?? [...kernels.keys()];
  if (layers.length === 0)
    throw new FormatError(
      "NoMatchingModules",
      "base checkpoint: expected 2-D <layer>.kernel tensors of a Dense stack, found none",
    );
  const modules = dict<{ shape: number[]; layout: "conv1d" }>();
  for (const layer of layers) {
    const shape = kernels.get(layer);
    if (shape?.length !== 2)
      throw new FormatError(
        "ShapeMismatch",
        `base checkpoint: expected a 2-D '${layer}.kernel' [in, out] tensor, found ${shape ? `[${shape}]` : "none"}`,
      );
    modules[layer] = { shape: [...shape], layout: "conv1d" };
  }
  return buildManifest(DENSE_ARCHITECTURE, DENSE_MODEL_TYPE, modules);
}

/** Kernel shapes by layer name (`fc1` for `fc1.kernel`) from a tensor table. */
export function denseKernels(shapes: ReadonlyMap<string, readonly number[]>): Map<string, readonly number[]> {
  const out = new Map<string, readonly number[]>();
  for (const [name, shape] of shapes) if (name.endsWith(KERNEL)) out.set(name.slice(0, -KERNEL.length), shape);
  return out;
}
