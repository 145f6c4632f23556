import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import type { LinearHost } from "@lowrank/core";
import {
  encodeFromFloat32,
  PEFT_CONFIG_FILE,
  PEFT_WEIGHTS_FILE,
  peftModelCard,
  readPeftAdapter,
  serializeSafetensors,
  writePeftAdapter,
} from "@lowrank/formats";
import { writeFolderAtomically } from "@lowrank/runtime";
import type { LayersModel } from "@tensorflow/tfjs-layers";

/** The sub-folder of a `train --out` folder holding the base the adapter was trained on. */
export const TRAIN_BASE_FOLDER = "base";

interface DenseLayer {
  name: string;
  getClassName(): string;
  getConfig(): { activation?: unknown; useBias?: unknown };
  getWeights(): Array<{ shape: number[]; dataSync(): Float32Array | Int32Array | Uint8Array }>;
}

/**
 * The base as the runtime's Dense classifier reads it (`<layer>.kernel` [in, out], `<layer>.bias`, and
 * `config.json` listing the layers and activations), or undefined when it is not a stack of Dense layers.
 */
function denseBaseFiles(base: LayersModel | LinearHost): Record<string, Uint8Array> | undefined {
  const layers = (base as { layers?: DenseLayer[] }).layers;
  if (!Array.isArray(layers) || layers.length === 0 || layers.some((l) => l.getClassName() !== "Dense"))
    return undefined;
  const tensors: Record<string, { dtype: "F32"; shape: number[]; data: Uint8Array }> = {};
  const specs: Array<{ name: string; activation: string }> = [];
  for (const layer of layers) {
    const [kernel, bias] = layer.getWeights();
    if (!kernel) return undefined;
    const f32 = (t: NonNullable<typeof kernel>) => encodeFromFloat32("F32", Float32Array.from(t.dataSync()));
    tensors[`${layer.name}.kernel`] = { dtype: "F32", shape: [...kernel.shape], data: f32(kernel) };
    if (bias) tensors[`${layer.name}.bias`] = { dtype: "F32", shape: [...bias.shape], data: f32(bias) };
    specs.push({ name: layer.name, activation: String(layer.getConfig().activation ?? "linear") });
  }
  return {
    "config.json": new TextEncoder().encode(`${JSON.stringify({ layers: specs }, null, 2)}\n`),
    "model.safetensors": serializeSafetensors(tensors, { format: "pt" }),
  };
}

/**
 * Writes a trained adapter as a PEFT folder through the formats writer (the same bytes `lowrank convert`
 * writes for it), with the base beside it in `base/` and `base_model_name_or_path` naming that folder,
 * so `--base OUT/base --adapter OUT` works at once. The folder appears whole or not at all.
 */
export async function writeTrainOutput(
  out: string,
  peft: {
    config: Record<string, unknown>;
    tensors: Map<string, { dtype: string; shape: readonly number[]; data: Uint8Array }>;
  },
  base: LayersModel | LinearHost,
  force: boolean,
): Promise<{ out: string; base?: string }> {
  const baseFiles = denseBaseFiles(base);
  const config = { ...peft.config, ...(baseFiles ? { base_model_name_or_path: TRAIN_BASE_FOLDER } : {}) };
  const { adapter } = readPeftAdapter({
    [PEFT_CONFIG_FILE]: new TextEncoder().encode(JSON.stringify(config)),
    [PEFT_WEIGHTS_FILE]: serializeSafetensors(peft.tensors as never, { format: "pt" }),
  });
  const card = adapter.modelCard ?? peftModelCard({ baseModel: adapter.config.base_model_name_or_path });
  const files = writePeftAdapter({ ...adapter, modelCard: card });
  await writeFolderAtomically(out, force, async (tmp) => {
    for (const [name, bytes] of Object.entries(files)) await writeFile(path.join(tmp, name), bytes);
    if (!baseFiles) return;
    await mkdir(path.join(tmp, TRAIN_BASE_FOLDER));
    for (const [name, bytes] of Object.entries(baseFiles))
      await writeFile(path.join(tmp, TRAIN_BASE_FOLDER, name), bytes);
  });
  const resolved = path.resolve(out);
  return { out: resolved, ...(baseFiles ? { base: path.join(resolved, TRAIN_BASE_FOLDER) } : {}) };
}
