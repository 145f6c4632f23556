import {
  type AdapterMismatch,
  checkAdapterAgainstBase,
  ggufLoraToPeft,
  isKohyaLora,
  kohyaToPeft,
  MODEL_CARD_FILE,
  PEFT_CONFIG_FILE,
  PEFT_WEIGHTS_FILE,
  type PeftAdapter,
  parseGguf,
  parseManifest,
  parseSafetensors,
  pickleRefusedMessage,
  readPeftAdapter,
} from "@lowrank/formats";

export interface FileCheck {
  ok: boolean;
  format: "peft" | "gguf" | "kohya" | null;
  /** One line per problem that is not about a layer (unreadable file, wrong set of files). */
  errors: string[];
  /** Layers whose shapes do not fit the base, by name. */
  mismatches: AdapterMismatch[];
  warnings: string[];
  modules: number;
  rank: number | null;
}

const PICKLE = /\.(bin|pt|pth|pkl|pickle|ckpt)$/i;

/** The base as the check needs it; the head counts undo llama.cpp's q/k permutation in a GGUF LoRA. */
export interface CheckBase {
  name: string;
  manifest: unknown;
  headCount?: number;
  headCountKv?: number;
}

function read(files: Record<string, Uint8Array>, base: CheckBase, moduleNames: readonly string[]) {
  const baseName = base.name;
  if (files[PEFT_CONFIG_FILE] || files[PEFT_WEIGHTS_FILE]) {
    const r = readPeftAdapter(files);
    return { adapter: r.adapter, warnings: r.warnings, format: "peft" as const };
  }
  const weights = Object.keys(files).filter((p) => p !== MODEL_CARD_FILE);
  if (weights.length !== 1)
    throw new Error(
      `expected a PEFT folder (${PEFT_CONFIG_FILE} + ${PEFT_WEIGHTS_FILE}) or one .gguf / kohya .safetensors file, found ${weights.join(", ") || "nothing"}`,
    );
  const path = weights[0] as string;
  const bytes = files[path] as Uint8Array;
  if (path.endsWith(".gguf")) {
    const r = ggufLoraToPeft(parseGguf(bytes), { headCount: base.headCount, headCountKv: base.headCountKv });
    return { adapter: r.adapter, warnings: r.warnings, format: "gguf" as const };
  }
  if (path.endsWith(".safetensors")) {
    const file = parseSafetensors(bytes);
    if (!isKohyaLora(file.names())) throw new Error(`${path}: expected kohya LoRA tensors (lora_unet_…, lora_te_…)`);
    const tensors = Object.fromEntries(file.names().map((n) => [n, file.getTensor(n)]));
    const r = kohyaToPeft(tensors, { baseModel: baseName, moduleNames, metadata: file.metadata });
    const parts = Object.values(r.adapters) as PeftAdapter[];
    if (parts.length !== 1) throw new Error(`${path}: expected one kohya component, found ${parts.length}`);
    return { adapter: parts[0] as PeftAdapter, warnings: r.warnings, format: "kohya" as const };
  }
  throw new Error(`${path}: expected a .gguf or .safetensors file`);
}

/**
 * The same check the hub runs at publish, done in the browser before any byte is uploaded: read the
 * adapter with `@lowrank/formats` and compare every module with the base's manifest.
 */
export function checkAdapterFiles(files: Record<string, Uint8Array>, base: CheckBase): FileCheck {
  const out: FileCheck = { ok: false, format: null, errors: [], mismatches: [], warnings: [], modules: 0, rank: null };
  for (const path of Object.keys(files)) if (PICKLE.test(path)) out.errors.push(pickleRefusedMessage(path));
  if (out.errors.length > 0) return out;
  try {
    const manifest = parseManifest(base.manifest);
    const { adapter, warnings, format } = read(files, base, Object.keys(manifest.modules));
    const check = checkAdapterAgainstBase(adapter, manifest);
    out.format = format;
    out.mismatches = check.mismatches;
    out.warnings = [...warnings, ...check.warnings];
    out.modules = Object.keys(adapter.modules).length;
    out.rank = adapter.config.r;
    out.ok = check.ok;
  } catch (error) {
    out.errors.push((error as Error).message);
  }
  return out;
}
