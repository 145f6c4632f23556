import {
  type AdapterMismatch,
  checkAdapterAgainstBase,
  parseManifest,
  pickleRefusedMessage,
  readAdapterFiles,
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
    const { adapter, warnings, format } = readAdapterFiles(files, {
      baseModel: base.name,
      moduleNames: Object.keys(manifest.modules),
      headCount: base.headCount,
      headCountKv: base.headCountKv,
    });
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
