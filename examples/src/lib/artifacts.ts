import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { adapterToPeft, type LoraModel } from "@lowrank/core";
import { encodeFromFloat32, type PeftConfig, serializePeftConfig, serializeSafetensors } from "@lowrank/formats";
import type { TaskModel } from "./TaskModel.js";

/** Writes the base weights as `model.safetensors` (F32 or F16, keys `<layer>.<weight>`) plus a JSON description. */
export function saveBase(
  dir: string,
  base: TaskModel,
  description: Record<string, unknown>,
  dtype: "F32" | "F16" = "F32",
): void {
  mkdirSync(dir, { recursive: true });
  const tensors = new Map(
    [...base.weights()].map(([k, v]) => [
      k,
      { dtype, shape: v.shape, data: encodeFromFloat32(dtype, v.dataSync() as Float32Array) },
    ]),
  );
  writeFileSync(path.join(dir, "model.safetensors"), serializeSafetensors(tensors, { format: "pt" }));
  writeFileSync(path.join(dir, "config.json"), `${JSON.stringify(description, null, 2)}\n`);
}

/** Writes an adapter as a PEFT folder (adapter_config.json laid out as PEFT writes it, adapter_model.safetensors). */
export function savePeftAdapter(
  dir: string,
  lora: LoraModel,
  name = "default",
  extra: Record<string, unknown> = {},
): void {
  mkdirSync(dir, { recursive: true });
  const peft = adapterToPeft(lora, name);
  writeFileSync(path.join(dir, "adapter_config.json"), serializePeftConfig({ ...peft.config, ...extra } as PeftConfig));
  writeFileSync(path.join(dir, "adapter_model.safetensors"), serializeSafetensors(peft.tensors, { format: "pt" }));
}
