import type { BaseManifest } from "@lowrank/formats";

// The manifest types, the canonical listing and the digest live in @lowrank/formats; the runtime
// re-exports them under the names it has always exported.
export {
  type BaseManifest,
  buildManifest,
  type ManifestModule,
  type ModuleLayout,
  manifestListing,
} from "@lowrank/formats";

/** Shapes of an adapter's factors per module (PEFT: lora_A [r, in], lora_B [out, r]). */
export interface AdapterShapes {
  [module: string]: { a: readonly number[]; b: readonly number[] };
}

/**
 * Why an adapter does not fit a base (one line per problem, expected vs found); empty when it fits.
 * Works from factor shapes and the manifest alone, e.g. to check a 768-wide GPT-2 adapter without
 * loading GPT-2. Unlike `checkAdapterAgainstBase` from @lowrank/formats (which takes a whole
 * `PeftAdapter`, maps names across backbone prefixes and throws when nothing matches), module names
 * must match the manifest exactly and nothing is thrown.
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
