/** Prefix PEFT puts before module names in `adapter_model.safetensors` (LoRA on a `PreTrainedModel`). */
export const PEFT_PREFIX = "base_model.model.";

export type PeftKeyPart = "lora_A" | "lora_B" | "lora_B.bias" | "lora_embedding_A" | "lora_embedding_B";

const LORA_KEY = /^(.+)\.(lora_A\.weight|lora_B\.weight|lora_B\.bias|lora_embedding_A|lora_embedding_B)$/;
const SAVE_KEY = /^(.+)\.modules_to_save\.(?:default\.)?(.+)$/;

/** Splits a saved key into module and part; null for keys that are not LoRA factors. */
export function parsePeftKey(key: string): { module: string; part: PeftKeyPart } | null {
  const m = LORA_KEY.exec(stripPrefix(key));
  if (!m) return null;
  const raw = m[2] as string;
  const part = (raw.endsWith(".weight") ? raw.slice(0, -".weight".length) : raw) as PeftKeyPart;
  return { module: m[1] as string, part };
}

/** `<module>.modules_to_save.<param>` (older writers), else null. */
export function parseModulesToSaveKey(key: string): { module: string; param: string } | null {
  const m = SAVE_KEY.exec(stripPrefix(key));
  return m ? { module: m[1] as string, param: m[2] as string } : null;
}

export function stripPrefix(key: string): string {
  return key.startsWith(PEFT_PREFIX) ? key.slice(PEFT_PREFIX.length) : key;
}

/** The key PEFT writes for a module's factor. */
export function peftKey(module: string, part: PeftKeyPart): string {
  const suffix = part === "lora_A" || part === "lora_B" ? `${part}.weight` : part;
  return `${PEFT_PREFIX}${module}.${suffix}`;
}

/**
 * Whether PEFT would target `module` with `targets`: a string is a regular expression that must
 * match the whole name; a list matches a name equal to an entry or ending in `.` + entry.
 */
export function matchesTarget(module: string, targets: string[] | string | null | undefined): boolean {
  if (targets == null) return false;
  if (typeof targets === "string") {
    try {
      return new RegExp(`^(?:${targets})$`).test(module);
    } catch {
      return false;
    }
  }
  return targets.some((t) => module === t || module.endsWith(`.${t}`));
}

/** PEFT's pattern lookup for `rank_pattern` / `alpha_pattern`: the first key matching `(.*\.)?key$`. */
export function patternValue(module: string, pattern: Record<string, number>): number | undefined {
  for (const [key, value] of Object.entries(pattern)) {
    let re: RegExp;
    try {
      re = new RegExp(`(?:^|\\.)(?:${key})$`);
    } catch {
      continue;
    }
    if (re.test(module)) return value;
  }
  return undefined;
}
