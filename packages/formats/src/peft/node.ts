/** Node-only: PEFT adapter folders on disk (exported from `@lowrank/formats/node`). */
import { readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pathExists, replaceFolderAtomically } from "../atomicWrite.js";
import { FormatError, isFormatError } from "../errors.js";
import type { PeftAdapter, PeftReadResult } from "./PeftAdapter.js";
import {
  MODEL_CARD_FILE,
  PEFT_CONFIG_FILE,
  PEFT_PICKLE_FILE,
  PEFT_WEIGHTS_FILE,
  readPeftAdapter,
} from "./readPeftAdapter.js";
import { writePeftAdapter } from "./writePeftAdapter.js";

function ioError(action: string, path: string, cause: unknown): FormatError {
  return new FormatError("IoError", `${action} ${path}: ${cause instanceof Error ? cause.message : String(cause)}`, {
    cause,
  });
}

/**
 * Reads a PEFT adapter folder: `adapter_config.json`, `adapter_model.safetensors` and `README.md`
 * when present. `adapter_model.bin` is only looked for, never read (`PickleRefused` if it is alone).
 */
export async function readPeftFolder(dir: string): Promise<PeftReadResult> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(dir);
  } catch (cause) {
    throw ioError("read", dir, cause);
  }
  if (!info.isDirectory())
    throw new FormatError("IoError", `read ${dir}: expected a PEFT adapter folder, found a file`);
  const files: Record<string, Uint8Array> = {};
  for (const name of [PEFT_CONFIG_FILE, PEFT_WEIGHTS_FILE, MODEL_CARD_FILE]) {
    const path = join(dir, name);
    if (!(await pathExists(path))) continue;
    try {
      const buf = await readFile(path);
      files[name] = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    } catch (cause) {
      throw ioError("read", path, cause);
    }
  }
  if (await pathExists(join(dir, PEFT_PICKLE_FILE))) files[PEFT_PICKLE_FILE] = new Uint8Array(0); // presence only
  return readPeftAdapter(files);
}

/**
 * Writes `adapter` as a PEFT folder atomically: everything goes into a temporary sibling folder that
 * is renamed into place at the end, so a failure leaves no half-written `dir`. An existing `dir` is
 * refused (`IoError`) unless `overwrite` is set, in which case it is replaced as a whole.
 */
export async function writePeftFolder(
  dir: string,
  adapter: PeftAdapter,
  options: { overwrite?: boolean } = {},
): Promise<void> {
  const files = writePeftAdapter(adapter);
  if (!options.overwrite && (await pathExists(dir)))
    throw new FormatError(
      "IoError",
      `write ${dir}: expected no existing file or folder there, found one (overwrite not set)`,
    );
  try {
    await replaceFolderAtomically(dir, async (tmp) => {
      for (const [name, bytes] of Object.entries(files)) await writeFile(join(tmp, name), bytes);
    });
  } catch (cause) {
    throw isFormat(cause) ? cause : ioError("write", dir, cause);
  }
}

function isFormat(e: unknown): e is FormatError {
  return isFormatError(e);
}
