import { serializeSafetensors, type TensorInput } from "@lowrank/formats";
import { type SyntheticAdapterSpec, syntheticAdapterArrays } from "./synthetic.js";
import type { ServableBase } from "./types.js";

/** A synthetic adapter written as PEFT files (adapter_config.json bytes + adapter_model.safetensors bytes). */
export function syntheticPeftFiles(
  base: ServableBase,
  spec: SyntheticAdapterSpec,
): { config: Uint8Array; weights: Uint8Array } {
  const arrays = syntheticAdapterArrays(base, spec);
  const tensors: Record<string, TensorInput> = {};
  for (const [name, m] of arrays) {
    tensors[`base_model.model.${name}.lora_A.weight`] = { dtype: "F32", shape: [m.rank, m.inF], data: m.a };
    tensors[`base_model.model.${name}.lora_B.weight`] = { dtype: "F32", shape: [m.outF, m.rank], data: m.b };
  }
  const config = {
    peft_type: "LORA",
    r: spec.rank,
    lora_alpha: spec.alpha ?? 2 * spec.rank,
    target_modules: [...arrays.keys()],
    base_model_name_or_path: base.id,
  };
  return { config: new TextEncoder().encode(JSON.stringify(config)), weights: serializeSafetensors(tensors) };
}
