import { serializeModelCard } from "../modelcard/modelCard.js";
import type { Tensor } from "../safetensors/SafetensorsFile.js";
import { serializeSafetensors } from "../safetensors/serializeSafetensors.js";
import { dict } from "./dict.js";
import type { PeftAdapter } from "./PeftAdapter.js";
import { serializePeftConfig } from "./parsePeftConfig.js";
import { PEFT_PREFIX, peftKey } from "./peftKeys.js";
import { MODEL_CARD_FILE, PEFT_CONFIG_FILE, PEFT_WEIGHTS_FILE } from "./readPeftAdapter.js";

/** Every tensor of the adapter under the key PEFT writes it with. */
export function peftTensors(adapter: PeftAdapter): Record<string, Tensor> {
  const out = dict<Tensor>();
  for (const [module, w] of Object.entries(adapter.modules)) {
    if (w.kind === "embedding") {
      out[peftKey(module, "lora_embedding_A")] = w.A;
      out[peftKey(module, "lora_embedding_B")] = w.B;
    } else {
      out[peftKey(module, "lora_A")] = w.A;
      out[peftKey(module, "lora_B")] = w.B;
      if (w.bias) out[peftKey(module, "lora_B.bias")] = w.bias;
    }
  }
  for (const [module, params] of Object.entries(adapter.modulesToSave)) {
    for (const [param, t] of Object.entries(params)) out[`${PEFT_PREFIX}${module}.${param}`] = t;
  }
  Object.assign(out, adapter.otherTensors);
  return out;
}

/**
 * The files of a PEFT adapter folder, deterministic byte for byte: `adapter_config.json` (laid out as
 * PEFT writes it), `adapter_model.safetensors` (with the adapter's `metadata` as it is: PEFT's
 * `{"format":"pt"}`, or none when it is null) and `README.md` when the adapter has a model card.
 * An adapter read with `readPeftAdapter` and not changed is written back byte for byte.
 */
export function writePeftAdapter(adapter: PeftAdapter): Record<string, Uint8Array> {
  const files: Record<string, Uint8Array> = {
    [PEFT_CONFIG_FILE]: serializePeftConfig(adapter.config),
    [PEFT_WEIGHTS_FILE]: serializeSafetensors(peftTensors(adapter), adapter.metadata),
  };
  if (adapter.modelCard) files[MODEL_CARD_FILE] = new TextEncoder().encode(serializeModelCard(adapter.modelCard));
  return files;
}
