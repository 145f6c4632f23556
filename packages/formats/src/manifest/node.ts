/** Node-only: a base manifest from a Hugging Face model folder (exported from `@lowrank/formats/node`). */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { FormatError } from "../errors.js";
import { openSafetensors } from "../safetensors/node.js";
import type { BaseManifest } from "./BaseManifest.js";
import { manifestFromHeader } from "./manifestFromHeader.js";

/**
 * Reads `config.json` and only the header of `model.safetensors` (no weights) and builds the
 * manifest. Sharded checkpoints (`model.safetensors.index.json`) are read through their index.
 */
export async function readBaseManifest(dir: string): Promise<BaseManifest> {
  let config: Record<string, unknown>;
  try {
    config = JSON.parse(await readFile(join(dir, "config.json"), "utf8"));
  } catch (cause) {
    throw new FormatError(
      "InvalidConfig",
      `${join(dir, "config.json")}: expected a readable JSON config, found ${(cause as Error).message}`,
      { cause },
    );
  }
  const shapes = new Map<string, { shape: readonly number[] }>();
  let files = ["model.safetensors"];
  try {
    const index = JSON.parse(await readFile(join(dir, "model.safetensors.index.json"), "utf8")) as {
      weight_map?: Record<string, string>;
    };
    if (index.weight_map) files = [...new Set(Object.values(index.weight_map))].sort();
  } catch {
    // not sharded
  }
  for (const f of files) {
    const lazy = await openSafetensors(join(dir, f));
    try {
      for (const [name, info] of lazy.tensors) shapes.set(name, info);
    } finally {
      await lazy.close();
    }
  }
  return manifestFromHeader(config, shapes);
}
