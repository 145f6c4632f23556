import { type BaseManifest, serializeSafetensors, type TensorInput } from "@lowrank/formats";

/** Deterministic PEFT files (config + safetensors, optionally README.md) that fit `manifest`. */
export function peftFilesFor(
  manifest: BaseManifest,
  options: { r?: number; alpha?: number; modules?: string[]; seed?: number; readme?: string; shapeOff?: boolean } = {},
): Record<string, Uint8Array> {
  const r = options.r ?? 2;
  const names =
    options.modules ??
    Object.keys(manifest.modules).filter(
      (n) => !manifest.modules[n]?.tiedTo && manifest.modules[n]?.layout !== "embedding",
    );
  let x = options.seed ?? 1;
  const next = () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return x / 2 ** 31 - 0.5;
  };
  const tensors: Record<string, TensorInput> = {};
  for (const name of names) {
    const m = manifest.modules[name]!;
    const inF = m.inFeatures + (options.shapeOff ? 1 : 0);
    tensors[`base_model.model.${name}.lora_A.weight`] = {
      dtype: "F32",
      shape: [r, inF],
      data: Float32Array.from({ length: r * inF }, next),
    };
    tensors[`base_model.model.${name}.lora_B.weight`] = {
      dtype: "F32",
      shape: [m.outFeatures, r],
      data: Float32Array.from({ length: r * m.outFeatures }, next),
    };
  }
  const config = {
    peft_type: "LORA",
    r,
    lora_alpha: options.alpha ?? 2 * r,
    target_modules: names.map((n) => n.split(".").pop()!).filter((v, i, a) => a.indexOf(v) === i),
    fan_in_fan_out: Object.values(manifest.modules)[0]?.layout === "conv1d",
    // What the base is: GPT-2 with an LM head generates text; a BERT backbone gives features.
    task_type: manifest.modelType === "bert" ? "FEATURE_EXTRACTION" : "CAUSAL_LM",
  };
  const files: Record<string, Uint8Array> = {
    "adapter_config.json": new TextEncoder().encode(JSON.stringify(config, null, 2)),
    "adapter_model.safetensors": serializeSafetensors(tensors, { format: "pt" }),
  };
  if (options.readme !== undefined) files["README.md"] = new TextEncoder().encode(options.readme);
  return files;
}
