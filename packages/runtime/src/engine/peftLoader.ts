import {
  adapterDigest,
  isFormatError,
  loraScale,
  PEFT_CONFIG_FILE,
  PEFT_WEIGHTS_FILE,
  peftParameterName,
  readPeftAdapter,
  toFloat32,
} from "@lowrank/formats";
import * as tf from "@tensorflow/tfjs-core";
import { RuntimeError } from "../backend/errors.js";
import type { AdapterLoader, AdapterModuleWeights, AdapterWeights } from "./types.js";

const CONFIG = PEFT_CONFIG_FILE;
const WEIGHTS = PEFT_WEIGHTS_FILE;

/**
 * Turns a PEFT adapter (adapter_config.json + adapter_model.safetensors) into engine weights, read by
 * @lowrank/formats' `readPeftAdapter` (the one PEFT reader: keys, config, ranks and alphas per module);
 * the digest is @lowrank/formats' `adapterDigest` over the two files. Errors name the adapter and,
 * where one is at fault, the layer.
 */
export function peftAdapterFromBytes(
  name: string,
  configBytes: Uint8Array | string | Record<string, unknown>,
  weightBytes: Uint8Array,
): AdapterWeights {
  const configFile =
    configBytes instanceof Uint8Array
      ? configBytes
      : new TextEncoder().encode(typeof configBytes === "string" ? configBytes : JSON.stringify(configBytes));
  let adapter: ReturnType<typeof readPeftAdapter>["adapter"];
  try {
    adapter = readPeftAdapter({ [CONFIG]: configFile, [WEIGHTS]: weightBytes }).adapter;
  } catch (error) {
    const code = isFormatError(error) && error.code === "ShapeMismatch" ? "AdapterMismatch" : "AdapterLoadFailed";
    throw new RuntimeError(code, `adapter '${name}': ${(error as Error).message}`, { cause: error, adapter: name });
  }
  const { config } = adapter;
  // Anything but LoRA factors changes the model in a way the engine cannot add per row; serving the
  // adapter without it would give wrong outputs, so refuse and say what to do instead.
  const merge = "; merge the adapter into its base with `lowrank merge` and serve the merged folder";
  const saved = Object.keys(adapter.modulesToSave)[0];
  if (saved !== undefined)
    throw new RuntimeError(
      "AdapterLoadFailed",
      `adapter '${name}': expected LoRA factors only, found a modules_to_save copy of the whole module '${saved}'${merge}`,
      { adapter: name },
    );
  for (const [module, w] of Object.entries(adapter.modules)) {
    if (w.kind === "embedding")
      throw new RuntimeError(
        "AdapterLoadFailed",
        `adapter '${name}': expected LoRA factors only, found '${module}.lora_embedding_A' (embedding LoRA and DoRA are not served by the engine)`,
        { adapter: name },
      );
    if (w.bias)
      throw new RuntimeError(
        "AdapterLoadFailed",
        `adapter '${name}': expected LoRA factors only, found a trained bias '${module}.lora_B.bias' (lora_bias: true)${merge}`,
        { adapter: name },
      );
  }
  const other = Object.keys(adapter.otherTensors)[0];
  if (other !== undefined) {
    const bare = peftParameterName(other);
    const what = bare.endsWith(".bias")
      ? `a trained bias '${bare}' (bias: "${config.bias}")${merge}`
      : /lora_magnitude_vector/.test(bare)
        ? `'${bare}' (embedding LoRA and DoRA are not served by the engine)`
        : `'${other}', which is not a lora_A/lora_B weight`;
    throw new RuntimeError("AdapterLoadFailed", `adapter '${name}': expected LoRA factors only, found ${what}`, {
      adapter: name,
    });
  }
  const modules = new Map<string, AdapterModuleWeights>();
  try {
    for (const [module, { A, B }] of Object.entries(adapter.modules)) {
      if (A.shape.length !== 2 || B.shape.length !== 2) {
        throw new RuntimeError(
          "AdapterMismatch",
          `adapter '${name}', layer '${module}': expected 2-D lora_A and lora_B, found [${A.shape}] and [${B.shape}]`,
          { adapter: name },
        );
      }
      modules.set(module, {
        a: tf.tensor2d(toFloat32(A), A.shape as [number, number]),
        b: tf.tensor2d(toFloat32(B), B.shape as [number, number]),
        scaling: loraScale(module, config),
      });
    }
  } catch (error) {
    for (const w of modules.values()) tf.dispose([w.a, w.b]);
    throw error;
  }
  return { digest: adapterDigest({ [CONFIG]: configFile, [WEIGHTS]: weightBytes }), modules };
}

/** Reads a PEFT folder's two files (Node only). */
export async function readPeftFiles(dir: string): Promise<{ config: Uint8Array; weights: Uint8Array }> {
  const { readFile } = await import("node:fs/promises");
  const path = await import("node:path");
  try {
    const [config, weights] = await Promise.all([readFile(path.join(dir, CONFIG)), readFile(path.join(dir, WEIGHTS))]);
    return { config: new Uint8Array(config), weights: new Uint8Array(weights) };
  } catch (error) {
    throw new RuntimeError(
      "NotFound",
      `PEFT folder '${dir}': expected ${CONFIG} and ${WEIGHTS}, found ${(error as Error).message}`,
      { cause: error },
    );
  }
}

/** The engine's default loader for `folder` and `bytes` sources in PEFT format. */
export const peftLoader: AdapterLoader = async (source, { name }) => {
  if (source.kind === "folder") {
    const { config, weights } = await readPeftFiles(source.path);
    return peftAdapterFromBytes(name, config, weights);
  }
  if (source.kind === "bytes") return peftAdapterFromBytes(name, source.config, source.weights);
  throw new RuntimeError(
    "InvalidArgument",
    `adapter '${name}': the PEFT loader reads folder and bytes sources, found '${source.kind}'`,
  );
};
