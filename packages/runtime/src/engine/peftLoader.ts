import { loraScaling, parseLoraConfig, peftParameterName, rankAndAlphaFor, savedModuleOf } from "@lowrank/core";
import { adapterDigest, parseSafetensors, toFloat32 } from "@lowrank/formats";
import * as tf from "@tensorflow/tfjs-core";
import { RuntimeError } from "../backend/errors.js";
import type { AdapterLoader, AdapterModuleWeights, AdapterWeights } from "./types.js";

const CONFIG = "adapter_config.json";
const WEIGHTS = "adapter_model.safetensors";
const KEY = /^base_model\.model\.(.+)\.lora_([AB])(?:\.[^.]+)?\.weight$/;

/**
 * Turns a PEFT adapter (adapter_config.json + adapter_model.safetensors) into engine weights. Keys
 * `base_model.model.<module>.lora_A.weight` name the module directly (Hugging Face names); the digest is
 * @lowrank/formats' `adapterDigest` over the two files. Errors name the adapter and, where one is at
 * fault, the layer.
 */
export function peftAdapterFromBytes(
  name: string,
  configBytes: Uint8Array | string | Record<string, unknown>,
  weightBytes: Uint8Array,
): AdapterWeights {
  const configText =
    typeof configBytes === "string"
      ? configBytes
      : configBytes instanceof Uint8Array
        ? new TextDecoder().decode(configBytes)
        : JSON.stringify(configBytes);
  const config = parseLoraConfig(configText);
  const file = parseSafetensors(weightBytes);
  const pairs = new Map<string, { A?: string; B?: string }>();
  for (const key of file.names()) {
    const m = KEY.exec(key);
    if (!m) {
      // Anything but LoRA factors changes the model in a way the engine cannot add per row; serving the
      // adapter without it would give wrong outputs, so refuse and say what to do instead.
      const bare = peftParameterName(key);
      const saved = savedModuleOf(bare, config.modules_to_save);
      const what = saved
        ? `a modules_to_save copy of the whole module '${saved}'`
        : bare.endsWith(".bias")
          ? `a trained bias '${bare}' (bias: "${config.bias}")`
          : /lora_embedding_|lora_magnitude_vector/.test(bare)
            ? `'${bare}' (embedding LoRA and DoRA are not served by the engine)`
            : `'${key}', which is not a lora_A/lora_B weight`;
      const hint =
        saved || bare.endsWith(".bias")
          ? "; merge the adapter into its base with `lowrank merge` and serve the merged folder"
          : "";
      throw new RuntimeError(
        "AdapterLoadFailed",
        `adapter '${name}': expected LoRA factors only, found ${what}${hint}`,
      );
    }
    const entry = pairs.get(m[1] as string) ?? {};
    entry[m[2] as "A" | "B"] = key;
    pairs.set(m[1] as string, entry);
  }
  const modules = new Map<string, AdapterModuleWeights>();
  try {
    for (const [module, { A, B }] of pairs) {
      if (!A || !B)
        throw new RuntimeError(
          "AdapterLoadFailed",
          `adapter '${name}', layer '${module}': expected lora_A and lora_B, found only lora_${A ? "A" : "B"}`,
        );
      const ta = file.getTensor(A);
      const tb = file.getTensor(B);
      if (ta.shape.length !== 2 || tb.shape.length !== 2) {
        throw new RuntimeError(
          "AdapterMismatch",
          `adapter '${name}', layer '${module}': expected 2-D lora_A and lora_B, found [${ta.shape}] and [${tb.shape}]`,
        );
      }
      const { r, alpha } = rankAndAlphaFor(module, config);
      if (ta.shape[0] !== r) {
        throw new RuntimeError(
          "AdapterMismatch",
          `adapter '${name}', layer '${module}': expected rank ${r} from ${CONFIG}, found lora_A [${ta.shape}]`,
        );
      }
      modules.set(module, {
        a: tf.tensor2d(toFloat32(ta), ta.shape as [number, number]),
        b: tf.tensor2d(toFloat32(tb), tb.shape as [number, number]),
        scaling: loraScaling(alpha, r, config.use_rslora),
      });
    }
  } catch (error) {
    for (const w of modules.values()) tf.dispose([w.a, w.b]);
    throw error;
  }
  const configFile =
    typeof configBytes === "string" || !(configBytes instanceof Uint8Array)
      ? new TextEncoder().encode(configText)
      : configBytes;
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
