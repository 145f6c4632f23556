import { FormatError } from "./errors.js";
import { parseGguf } from "./gguf/GgufFile.js";
import { ggufLoraToPeft } from "./gguf/ggufLora.js";
import { isKohyaLora, kohyaToPeft } from "./kohya/kohyaLora.js";
import type { PeftAdapter } from "./peft/PeftAdapter.js";
import { MODEL_CARD_FILE, PEFT_CONFIG_FILE, PEFT_WEIGHTS_FILE, readPeftAdapter } from "./peft/readPeftAdapter.js";
import { parseSafetensors } from "./safetensors/parseSafetensors.js";

export type AdapterFileFormat = "peft" | "gguf" | "kohya";

export interface ReadAdapterFilesOptions {
  /** The base's name, recorded as `base_model_name_or_path` of a kohya file's PEFT config. */
  baseModel?: string;
  /** The base's module names: kohya's flattened names (h_0_attn_c_attn) map back to them exactly. */
  moduleNames?: readonly string[];
  /** Attention head counts, to undo llama.cpp's q/k permutation in a GGUF LoRA that does not store them. */
  headCount?: number;
  headCountKv?: number;
}

/**
 * An adapter from the files a user hands over, whichever format they are in: a PEFT folder
 * (`adapter_config.json` + `adapter_model.safetensors`), or one GGUF LoRA, or one kohya `.safetensors`
 * (each optionally beside a `README.md`). The hub's publish and its in-browser check both read with
 * this; `UnknownFormat` says which files were expected otherwise.
 */
export function readAdapterFiles(
  files: Readonly<Record<string, Uint8Array>>,
  options: ReadAdapterFilesOptions = {},
): { adapter: PeftAdapter; format: AdapterFileFormat; warnings: string[] } {
  if (files[PEFT_CONFIG_FILE] || files[PEFT_WEIGHTS_FILE]) {
    const { adapter, warnings } = readPeftAdapter(files);
    return { adapter, format: "peft", warnings };
  }
  const weights = Object.keys(files).filter((p) => p !== MODEL_CARD_FILE);
  if (weights.length !== 1)
    throw new FormatError(
      "UnknownFormat",
      `expected a PEFT folder (${PEFT_CONFIG_FILE} + ${PEFT_WEIGHTS_FILE}), or one .gguf or kohya .safetensors file; found ${weights.join(", ") || "nothing"}`,
    );
  const path = weights[0] as string;
  const bytes = files[path] as Uint8Array;
  if (path.endsWith(".gguf")) {
    const { adapter, warnings } = ggufLoraToPeft(parseGguf(bytes), {
      headCount: options.headCount,
      headCountKv: options.headCountKv,
    });
    return { adapter, format: "gguf", warnings };
  }
  if (path.endsWith(".safetensors")) {
    const file = parseSafetensors(bytes);
    if (!isKohyaLora(file.names()))
      throw new FormatError(
        "UnknownFormat",
        `${path}: expected kohya LoRA tensors (lora_unet_..., lora_te_...), found others`,
      );
    const tensors = Object.fromEntries(file.names().map((n) => [n, file.getTensor(n)]));
    // The file's sd-scripts metadata (ss_*) is kept in the PEFT safetensors.
    const { adapters: parts, warnings } = kohyaToPeft(tensors, {
      baseModel: options.baseModel,
      moduleNames: options.moduleNames,
      metadata: file.metadata,
    });
    const list = Object.values(parts);
    if (list.length !== 1)
      throw new FormatError(
        "UnknownFormat",
        `${path}: expected one kohya component, found ${Object.keys(parts).join(", ") || "none"}`,
      );
    return { adapter: list[0] as PeftAdapter, format: "kohya", warnings };
  }
  throw new FormatError("UnknownFormat", `${path}: expected a .gguf or .safetensors file`);
}
