import type { VersionFile } from "@lowrank/db";
import { PEFT_CONFIG_FILE, PEFT_WEIGHTS_FILE, parseSafetensors } from "@lowrank/formats";
import { getHub } from "./hub.js";

export interface TensorRow {
  name: string;
  dtype: string;
  shape: readonly number[];
  params: number;
}

/** The canonical PEFT config (pretty JSON) and the tensor list of a version, read from the blob store. */
export async function readAdapterFiles(
  files: VersionFile[],
): Promise<{ config: string | null; tensors: TensorRow[]; problem: string | null }> {
  const hub = await getHub();
  const byPath = new Map(files.map((f) => [f.path, f]));
  let config: string | null = null;
  let tensors: TensorRow[] = [];
  let problem: string | null = null;
  try {
    const cfg = byPath.get(PEFT_CONFIG_FILE);
    if (cfg) config = JSON.stringify(JSON.parse(new TextDecoder().decode(await hub.blobs.read(cfg.sha256))), null, 2);
    const weights = byPath.get(PEFT_WEIGHTS_FILE);
    if (weights) {
      const file = parseSafetensors(await hub.blobs.read(weights.sha256));
      tensors = file.names().map((name) => {
        const info = file.info(name);
        return { name, dtype: info.dtype, shape: info.shape, params: info.shape.reduce((a, b) => a * b, 1) };
      });
    }
  } catch (error) {
    problem = `could not read the stored files: ${(error as Error).message}`;
  }
  return { config, tensors, problem };
}
