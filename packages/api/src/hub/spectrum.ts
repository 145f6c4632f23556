import { effectiveRank, lowRankSingularValues } from "@lowrank/core";
import type { AdapterSpectrum } from "@lowrank/db";
import { decodeToFloat32, type PeftAdapter } from "@lowrank/formats";

/** Share of Σσ² that the effective rank keeps. */
export const SPECTRUM_ENERGY = 0.9;

/** Product of a shape's entries from `from` on. */
const tail = (shape: readonly number[], from: number) => shape.slice(from).reduce((a, b) => a * b, 1);

/**
 * Singular values of every module's update ΔW = scale·B·A (PEFT layout: A [r, in], B [out, r]; conv
 * kernels flattened), with `@lowrank/core`'s rank tools: QR of each factor and an r×r SVD, so a large
 * layer costs little. Run once at publish time; the adapter page draws the result.
 */
export function adapterSpectrum(adapter: PeftAdapter, energy = SPECTRUM_ENERGY): AdapterSpectrum {
  const { config } = adapter;
  const modules: AdapterSpectrum["modules"] = [];
  for (const [name, weights] of Object.entries(adapter.modules)) {
    const { A, B } = weights;
    const r = A.shape[0] ?? 0;
    const inFeatures = tail(A.shape, 1);
    const outFeatures = B.shape[0] ?? 0;
    if (r === 0 || inFeatures === 0 || outFeatures === 0 || tail(B.shape, 1) !== r) continue;
    const alpha = config.alpha_pattern?.[name] ?? config.lora_alpha;
    const scale = config.use_rslora ? alpha / Math.sqrt(r) : alpha / r;
    // ΔW = B·A: lowRankSingularValues takes the left factor [n, r] and the right one [r, m].
    const sv = lowRankSingularValues(
      decodeToFloat32(B.dtype, B.data),
      decodeToFloat32(A.dtype, A.data),
      outFeatures,
      r,
      inFeatures,
      scale,
    );
    const values = Array.from(sv, (v) => (Number.isFinite(v) ? Math.max(0, v) : 0)).sort((a, b) => b - a);
    modules.push({ name, values, effectiveRank: effectiveRank(values, energy) });
  }
  return { energy, modules };
}
