import { serializeModelCard } from "../modelcard/modelCard.js";
import type { Tensor } from "../safetensors/SafetensorsFile.js";
import { serializeSafetensors } from "../safetensors/serializeSafetensors.js";
import { dict } from "./dict.js";
import type { PeftAdapter } from "./PeftAdapter.js";
import { serializePeftConfig } from "./parsePeftConfig.js";
import { PEFT_PREFIX, type PeftKeyPart, parsePeftKey, peftKey } from "./peftKeys.js";
import { MODEL_CARD_FILE, PEFT_CONFIG_FILE, PEFT_WEIGHTS_FILE } from "./readPeftAdapter.js";

/** The key a factor was read under when it still names this module and part, else the one PEFT writes. */
function keyFor(module: string, part: PeftKeyPart, read: string | undefined): string {
  const parsed = read === undefined ? null : parsePeftKey(read);
  return parsed && parsed.module === module && parsed.part === part ? (read as string) : peftKey(module, part);
}

/** Every tensor of the adapter under the key PEFT writes it with (or the key it was read under). */
export function peftTensors(adapter: PeftAdapter): Record<string, Tensor> {
  const out = dict<Tensor>();
  for (const [module, w] of Object.entries(adapter.modules)) {
    const k = w.keys ?? {};
    if (w.kind === "embedding") {
      out[keyFor(module, "lora_embedding_A", k.A)] = w.A;
      out[keyFor(module, "lora_embedding_B", k.B)] = w.B;
    } else {
      out[keyFor(module, "lora_A", k.A)] = w.A;
      out[keyFor(module, "lora_B", k.B)] = w.B;
      if (w.bias) out[keyFor(module, "lora_B.bias", k.bias)] = w.bias;
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
