import { manifestFromConfig as formatsManifestFromConfig, isFormatError } from "@lowrank/formats";
import { RuntimeError } from "../backend/errors.js";
import type { BaseManifest } from "./manifest.js";

/**
 * The base manifest of a GPT-2 or BERT (or Llama-family) from `config.json` alone (no weights):
 * @lowrank/formats' `manifestFromConfig`, the one manifest builder, so an adapter for `gpt2` (768
 * wide, 12 layers) can be checked without downloading the base, and the digest equals the loaded
 * model's `manifest().digest`. Bad configs are `RuntimeError` `ModelLoadFailed`.
 */
export function manifestFromConfig(config: Readonly<Record<string, unknown>>): BaseManifest {
  try {
    return formatsManifestFromConfig(config);
  } catch (error) {
    if (isFormatError(error)) throw new RuntimeError("ModelLoadFailed", error.message, { cause: error });
    throw error;
  }
}
