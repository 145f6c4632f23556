import { sha256Hex } from "../digest.js";
import { FormatError, type Result, toResult } from "../errors.js";
import { dict } from "../peft/dict.js";

/** How a module stores its weight in the Hugging Face checkpoint. */
export type ModuleLayout = "linear" | "conv1d" | "embedding";

/**
 * One LoRA-targetable module of a base: the weight shape as stored ([out, in] for nn.Linear,
 * [in, out] for GPT-2's Conv1D, [num_embeddings, dim] for embeddings) and its layout.
 */
export interface ManifestModule {
  shape: number[];
  layout: ModuleLayout;
  inFeatures: number;
  outFeatures: number;
  /** Set when the weight is shared with another module (GPT-2's `lm_head` is `transformer.wte`). */
  tiedTo?: string;
}

/**
 * What identifies a base model to adapters: architecture, modules by Hugging Face name with weight
 * shapes and layouts, and a digest of those, so an adapter can be checked without the weights.
 * Same shape and digest as `@lowrank/runtime`'s manifest.
 */
export interface BaseManifest {
  format: "lowrank.base-manifest";
  version: 1;
  architecture: string;
  modelType: string;
  modules: Record<string, ManifestModule>;
  /** sha256 (hex) of {@link manifestListing}. */
  digest: string;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The canonical text the digest is computed over: `architecture X` then `name layout AxB` per module, sorted by name. */
export function manifestListing(architecture: string, modules: Readonly<Record<string, ManifestModule>>): string {
  const lines = [`architecture ${architecture}`];
  for (const name of Object.keys(modules).sort(compare)) {
    const m = modules[name] as ManifestModule;
    lines.push(`${name} ${m.layout} ${m.shape.join("x")}${m.tiedTo ? ` tied:${m.tiedTo}` : ""}`);
  }
  return `${lines.join("\n")}\n`;
}

export function featuresOf(
  shape: readonly number[],
  layout: ModuleLayout,
): { inFeatures: number; outFeatures: number } {
  const [d0 = 0, d1 = 0] = shape;
  return layout === "linear" ? { inFeatures: d1, outFeatures: d0 } : { inFeatures: d0, outFeatures: d1 };
}

/** A manifest with modules sorted by name and its digest computed. */
export function buildManifest(
  architecture: string,
  modelType: string,
  modules: Readonly<Record<string, { shape: readonly number[]; layout: ModuleLayout; tiedTo?: string }>>,
): BaseManifest {
  const sorted = dict<ManifestModule>();
  for (const name of Object.keys(modules).sort(compare)) {
    const m = modules[name] as { shape: readonly number[]; layout: ModuleLayout; tiedTo?: string };
    sorted[name] = {
      shape: [...m.shape],
      layout: m.layout,
      ...featuresOf(m.shape, m.layout),
      ...(m.tiedTo ? { tiedTo: m.tiedTo } : {}),
    };
  }
  return {
    format: "lowrank.base-manifest",
    version: 1,
    architecture,
    modelType,
    modules: sorted,
    digest: sha256Hex(new TextEncoder().encode(manifestListing(architecture, sorted))),
  };
}

/** Serializes a manifest as stable JSON (two-space indent, modules sorted). */
export function serializeManifest(manifest: BaseManifest): string {
  return `${JSON.stringify(buildManifest(manifest.architecture, manifest.modelType, manifest.modules), null, 2)}\n`;
}

/**
 * Reads a stored manifest JSON. The digest is recomputed and must match the stored one
 * (`InvalidConfig` otherwise), so an edited manifest cannot pass as the original.
 */
export function parseManifest(input: string | Uint8Array | unknown): BaseManifest {
  let raw: unknown = input;
  if (typeof input === "string" || input instanceof Uint8Array) {
    try {
      raw = JSON.parse(typeof input === "string" ? input : new TextDecoder().decode(input));
    } catch (cause) {
      throw new FormatError(
        "InvalidConfig",
        `base manifest: expected JSON, found a syntax error (${(cause as Error).message})`,
        { cause },
      );
    }
  }
  const o = raw as Partial<BaseManifest> | null;
  if (typeof o !== "object" || o === null || o.format !== "lowrank.base-manifest" || o.version !== 1) {
    throw new FormatError(
      "InvalidConfig",
      `base manifest: expected {"format":"lowrank.base-manifest","version":1,...}, found ${JSON.stringify(raw)?.slice(0, 80)}`,
    );
  }
  if (typeof o.architecture !== "string" || typeof o.modules !== "object" || o.modules === null) {
    throw new FormatError("InvalidConfig", "base manifest: expected architecture (string) and modules (object)");
  }
  for (const [name, m] of Object.entries(o.modules)) {
    const ok =
      typeof m === "object" &&
      m !== null &&
      Array.isArray(m.shape) &&
      m.shape.length === 2 &&
      m.shape.every((d) => Number.isInteger(d) && d >= 0) &&
      (m.layout === "linear" || m.layout === "conv1d" || m.layout === "embedding");
    if (!ok)
      throw new FormatError(
        "InvalidConfig",
        `base manifest: expected module ${name} to have a 2-D shape and a layout, found ${JSON.stringify(m)}`,
      );
  }
  const built = buildManifest(o.architecture, typeof o.modelType === "string" ? o.modelType : "", o.modules);
  if (o.digest !== undefined && o.digest !== built.digest) {
    throw new FormatError(
      "InvalidConfig",
      `base manifest: expected digest ${built.digest} for its modules, found ${String(o.digest)}`,
    );
  }
  return built;
}

export function safeParseManifest(input: string | Uint8Array | unknown): Result<BaseManifest> {
  return toResult(() => parseManifest(input));
}
