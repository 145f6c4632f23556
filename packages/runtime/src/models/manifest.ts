import { type BaseManifest, checkModuleAgainstBase } from "@lowrank/formats";

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
 * loading GPT-2. The check per module is @lowrank/formats' `checkModuleAgainstBase`, the same one
 * `checkAdapterAgainstBase` runs; unlike that one (which takes a whole `PeftAdapter`, maps names
 * across backbone prefixes and throws when nothing matches), module names must match the manifest
 * exactly and nothing is thrown.
 */
export function adapterMismatches(manifest: BaseManifest, adapter: AdapterShapes): string[] {
  const problems: string[] = [];
  for (const [name, { a, b }] of Object.entries(adapter)) {
    const kind = manifest.modules[name]?.layout === "embedding" ? "embedding" : "lora";
    const problem = checkModuleAgainstBase(manifest, name, name, { kind, A: a, B: b });
    if (problem) problems.push(problem.message);
  }
  return problems;
}
