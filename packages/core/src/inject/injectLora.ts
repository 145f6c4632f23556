import type { LayersModel } from "@tensorflow/tfjs-layers";
import { type LoraConfig, parseLoraConfig } from "../config/LoraConfig.js";
import { CoreError } from "../errors.js";
import { hostSource } from "./hostSource.js";
import { isLinearHost, type LinearHost } from "./LinearHost.js";
import { LoraModel } from "./LoraModel.js";
import { layersSource } from "./layersSource.js";

function isLayersModel(x: unknown): x is LayersModel {
  return (
    typeof x === "object" &&
    x !== null &&
    Array.isArray((x as LayersModel).layers) &&
    Array.isArray((x as LayersModel).outputLayers)
  );
}

/**
 * Injects LoRA into a tfjs-layers `LayersModel` (Dense, Conv2D, Embedding layers, named by layer name;
 * `model.predict`/`model.apply` run through the adapters) or into any `LinearHost`. The first adapter
 * (`adapterName`, default `"default"` as in PEFT) is active. Throws `NoMatchingModules` if the config targets nothing.
 * Dispose the returned model to detach LoRA and free its tensors.
 */
export function injectLora(
  model: LayersModel | LinearHost,
  config: LoraConfig | Record<string, unknown>,
  opts: { adapterName?: string; seed?: number } = {},
): LoraModel {
  const cfg = parseLoraConfig(config);
  if (cfg.target_modules === null)
    throw new CoreError(
      "InvalidConfig",
      'LoraConfig.target_modules: expected module names, a regex or "all-linear", found null',
      { field: "target_modules" },
    );
  const source = isLayersModel(model) ? layersSource(model) : isLinearHost(model) ? hostSource(model) : undefined;
  if (!source)
    throw new CoreError(
      "InvalidArgument",
      "injectLora: expected a tfjs-layers LayersModel or a LinearHost (linearModules()), found neither",
    );
  const lora = new LoraModel(source); // freezes the base
  const name = opts.adapterName ?? "default";
  try {
    lora.addAdapter(name, cfg, { seed: opts.seed ?? 0 });
    lora.setActiveAdapters([name]);
  } catch (e) {
    lora.dispose(); // gives the model back as it was: unfrozen, nothing attached
    throw e;
  }
  return lora;
}

/** `{ trainable, total, fraction }` as PEFT's `print_trainable_parameters` counts them (base + adapters). */
export function countParameters(model: LoraModel): { trainable: number; total: number; fraction: number } {
  const trainable = model.trainableVariables().reduce((s, v) => s + v.size, 0);
  let total = 0;
  for (const v of model.baseVariables().values()) total += v.size;
  for (const l of model.layers.values()) for (const v of l.adapterVariables()) total += v.size;
  total += model.savedCopiesSize();
  return { trainable, total, fraction: total === 0 ? 0 : trainable / total };
}
