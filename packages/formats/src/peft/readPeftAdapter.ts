import { FormatError, type Result, toResult } from "../errors.js";
import { parseModelCard } from "../modelcard/modelCard.js";
import { parseSafetensors } from "../safetensors/parseSafetensors.js";
import type { Tensor } from "../safetensors/SafetensorsFile.js";
import { dict } from "./dict.js";
import { matchesTarget, savedModuleOf } from "./moduleMatch.js";
import type { PeftAdapter, PeftModuleWeights, PeftReadResult } from "./PeftAdapter.js";
import { parsePeftConfig, rankAndAlpha } from "./parsePeftConfig.js";
import { parseModulesToSaveKey, parsePeftKey, peftKey, stripPrefix } from "./peftKeys.js";

export const PEFT_CONFIG_FILE = "adapter_config.json";
export const PEFT_WEIGHTS_FILE = "adapter_model.safetensors";
export const PEFT_PICKLE_FILE = "adapter_model.bin";
export const MODEL_CARD_FILE = "README.md";

/** Why `adapter_model.bin` is refused, and how to get a safetensors file instead. */
export function pickleRefusedMessage(where = PEFT_PICKLE_FILE): string {
  return (
    `${where}: expected adapter_model.safetensors, found only a PyTorch pickle. Pickle files can run arbitrary code ` +
    "when loaded, so lowrank never unpickles them. Convert it where you trust the file, either with PEFT " +
    "(`PeftModel.from_pretrained(base, DIR).save_pretrained(OUT, safe_serialization=True)`) or with " +
    `\`python -c "import torch; from safetensors.torch import save_file; ` +
    `save_file(torch.load('${where}', weights_only=True), 'adapter_model.safetensors', metadata={'format': 'pt'})"\``
  );
}

type Partial = {
  kind?: "lora" | "embedding";
  A?: Tensor;
  B?: Tensor;
  bias?: Tensor;
  keys: { A?: string; B?: string; bias?: string };
};

/**
 * Reads a PEFT LoRA adapter from its files (`adapter_config.json`, `adapter_model.safetensors`,
 * optionally `README.md`). A folder with only `adapter_model.bin` is refused (`PickleRefused`).
 * Unknown config keys, unknown tensors and other oddities become warnings, not failures.
 */
export function readPeftAdapter(files: Readonly<Record<string, Uint8Array>>): PeftReadResult {
  const warnings: string[] = [];
  const weights = files[PEFT_WEIGHTS_FILE];
  if (!weights) {
    if (files[PEFT_PICKLE_FILE]) throw new FormatError("PickleRefused", pickleRefusedMessage());
    throw new FormatError(
      "InvalidConfig",
      `PEFT adapter: expected ${PEFT_WEIGHTS_FILE}, found ${Object.keys(files).join(", ") || "no files"}`,
    );
  }
  if (files[PEFT_PICKLE_FILE])
    warnings.push(`${PEFT_PICKLE_FILE} ignored (never unpickled); ${PEFT_WEIGHTS_FILE} used instead`);
  const configBytes = files[PEFT_CONFIG_FILE];
  if (!configBytes) throw new FormatError("InvalidConfig", `PEFT adapter: expected ${PEFT_CONFIG_FILE}, found none`);
  const { config, warnings: configWarnings } = parsePeftConfig(configBytes);
  warnings.push(...configWarnings);

  const file = parseSafetensors(weights);
  const parts = new Map<string, Partial>();
  const modulesToSave: PeftAdapter["modulesToSave"] = dict();
  const otherTensors = dict<Tensor>();
  for (const key of file.names()) {
    const t = file.getTensor(key);
    const lora = parsePeftKey(key);
    if (lora) {
      const slot = parts.get(lora.module) ?? { keys: {} };
      const kind = lora.part.startsWith("lora_embedding") ? "embedding" : "lora";
      if (slot.kind && slot.kind !== kind) {
        throw new FormatError(
          "InvalidConfig",
          `PEFT adapter: module ${lora.module} has both lora_A/B and lora_embedding_A/B tensors`,
        );
      }
      slot.kind = kind;
      const field = lora.part === "lora_B.bias" ? "bias" : lora.part.endsWith("A") ? "A" : "B";
      if (slot[field]) {
        throw new FormatError(
          "InvalidConfig",
          `PEFT adapter: expected one ${lora.part} tensor for module ${lora.module}, found a second one (${JSON.stringify(key)})`,
        );
      }
      slot[field] = t;
      if (key !== peftKey(lora.module, lora.part)) slot.keys[field] = key;
      parts.set(lora.module, slot);
      continue;
    }
    const save = parseModulesToSaveKey(key) ?? modulesToSaveByConfig(key, config.modules_to_save);
    if (save) {
      const params = modulesToSave[save.module] ?? dict<Tensor>();
      params[save.param] = t;
      modulesToSave[save.module] = params;
      continue;
    }
    otherTensors[key] = t;
    warnings.push(`${PEFT_WEIGHTS_FILE}: tensor ${JSON.stringify(key)} is not a LoRA factor; kept as is`);
  }

  const modules = dict<PeftModuleWeights>();
  for (const [module, p] of parts) {
    if (!p.A || !p.B) {
      throw new FormatError(
        "InvalidConfig",
        `PEFT adapter: expected both factors for module ${module}, found only ${p.A ? "A" : "B"}`,
      );
    }
    checkFactorShapes(module, p.A, p.B, rankAndAlpha(module, config).r);
    modules[module] = {
      kind: p.kind ?? "lora",
      A: p.A,
      B: p.B,
      ...(p.bias ? { bias: p.bias } : {}),
      ...(Object.keys(p.keys).length > 0 ? { keys: p.keys } : {}),
    };
    if (Array.isArray(config.target_modules) && !matchesTarget(module, config.target_modules)) {
      warnings.push(
        `module ${module} has LoRA weights but is not matched by target_modules ${JSON.stringify(config.target_modules)}`,
      );
    }
  }
  if (Object.keys(modules).length === 0) warnings.push(`${PEFT_WEIGHTS_FILE}: no LoRA factors found`);

  let modelCard: PeftAdapter["modelCard"] = null;
  const readme = files[MODEL_CARD_FILE];
  if (readme) {
    try {
      modelCard = parseModelCard(readme);
    } catch (error) {
      warnings.push(`${MODEL_CARD_FILE}: ${(error as Error).message}; kept as plain text`);
      modelCard = { data: null, body: new TextDecoder().decode(readme) };
    }
  }
  return {
    adapter: {
      config,
      modules,
      modulesToSave,
      otherTensors,
      metadata: file.metadata ? { ...file.metadata } : null,
      modelCard,
    },
    warnings,
  };
}

export function safeReadPeftAdapter(files: Readonly<Record<string, Uint8Array>>): Result<PeftReadResult> {
  return toResult(() => readPeftAdapter(files));
}

/** Current PEFT writes a `modules_to_save` copy as `base_model.model.<module>.<param>`. */
function modulesToSaveByConfig(key: string, modulesToSave: string[] | null): { module: string; param: string } | null {
  const name = stripPrefix(key);
  const module = savedModuleOf(name, modulesToSave);
  return module === null ? null : { module, param: name.slice(module.length + 1) };
}

/** A [r, in(, kh, kw)] and B [out, r(, 1, 1)] must agree on the rank, which must match the config. */
export function checkFactorShapes(module: string, A: Tensor, B: Tensor, r: number): void {
  const rankA = A.shape[0];
  const rankB = B.shape[1];
  if (A.shape.length < 2 || B.shape.length !== A.shape.length || rankA !== rankB) {
    throw new FormatError(
      "ShapeMismatch",
      `module ${module}: expected lora_A [r, in] and lora_B [out, r] with the same r, found [${A.shape}] and [${B.shape}]`,
    );
  }
  if (rankA !== r) {
    throw new FormatError(
      "ShapeMismatch",
      `module ${module}: expected rank ${r} (from r / rank_pattern), found lora_A [${A.shape}]`,
    );
  }
}
