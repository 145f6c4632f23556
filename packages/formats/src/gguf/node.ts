/** Node-only: GGUF files on disk (exported from `@lowrank/formats/node`). */
import { fileSource } from "../safetensors/node.js";
import { type LazyGguf, openGguf } from "./GgufFile.js";

/** Opens a GGUF file lazily: reads the header only; `readTensor` reads one tensor. Close it when done. */
export async function openGgufFile(path: string): Promise<LazyGguf> {
  return openGguf(await fileSource(path));
}
