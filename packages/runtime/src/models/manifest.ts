import { sha256Hex } from "@lowrank/formats";

/** How a module stores its weight in the Hugging Face checkpoint. */
export type ModuleLayout = "conv1d" | "linear" | "embedding";

/** One LoRA-targetable module of a base: its weight shape as stored in the checkpoint ([in, out] for GPT-2's Conv1D, [out, in] for nn.Linear, [vocab, dim] for embeddings). */
export interface ManifestModule {
  shape: number[];
  layout: ModuleLayout;
  inFeatures: number;
  outFeatures: number;
  /** Set when the weight is shared with another module (GPT-2's `lm_head` is `wte`). */
  tiedTo?: string;
}

/**
 * What identifies a base model to adapters: its architecture, its modules by Hugging Face name with
 * their weight shapes and layouts, and a digest of those. An adapter can be checked against a base
 * from the manifest alone, without the weights.
 */
export interface BaseManifest {
  format: "lowrank.base-manifest";
  version: 1;
  architecture: string;
  modelType: string;
  modules: Record<string, ManifestModule>;
  /** sha256 (hex) of the canonical listing: one `name layout shape` line per module, sorted by name. */
  digest: string;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The text the manifest digest is computed over. */
export function manifestListing(architecture: string, modules: Record<string, ManifestModule>): string {
  const lines = [`architecture ${architecture}`];
  for (const name of Object.keys(modules).sort(compare)) {
    const m = modules[name] as ManifestModule;
    lines.push(`${name} ${m.layout} ${m.shape.join("x")}${m.tiedTo ? ` tied:${m.tiedTo}` : ""}`);
  }
  return `${lines.join("\n")}\n`;
}

export function buildManifest(
  architecture: string,
  modelType: string,
  modules: Record<string, ManifestModule>,
): BaseManifest {
  const sorted: Record<string, ManifestModule> = {};
  for (const name of Object.keys(modules).sort(compare)) sorted[name] = modules[name] as ManifestModule;
  return {
    format: "lowrank.base-manifest",
    version: 1,
    architecture,
    modelType,
    modules: sorted,
    digest: sha256Hex(new TextEncoder().encode(manifestListing(architecture, sorted))),
  };
}

/** Shapes of an adapter's factors per module (PEFT: lora_A [r, in], lora_B [out, r]). */
export interface AdapterShapes {
  [module: string]: { a: readonly number[]; b: readonly number[] };
}

/**
 * Why an adapter does not fit a base (one line per problem, expected vs found); empty when it fits.
 * Works from the manifest alone, e.g. to check a 768-wide GPT-2 adapter without loading GPT-2.
 */
export function adapterMismatches(manifest: BaseManifest, adapter: AdapterShapes): string[] {
  const problems: string[] = [];
  for (const [name, { a, b }] of Object.entries(adapter)) {
    const m = manifest.modules[name];
    if (!m) {
      problems.push(
        `module '${name}': expected one of the base's ${Object.keys(manifest.modules).length} modules (${manifest.architecture}), found none`,
      );
      continue;
    }
    if (a.length !== 2 || b.length !== 2 || a[0] !== b[1]) {
      problems.push(`module '${name}': expected lora_A [r, in] and lora_B [out, r], found [${a}] and [${b}]`);
      continue;
    }
    const fin = m.layout === "embedding" ? m.shape[0] : m.inFeatures;
    const fout = m.layout === "embedding" ? m.shape[1] : m.outFeatures;
    if (a[1] !== fin || b[0] !== fout) {
      problems.push(`module '${name}': expected lora_A [r, ${fin}] and lora_B [${fout}, r], found [${a}] and [${b}]`);
    }
  }
  return problems;
}
