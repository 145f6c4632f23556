import type * as tf from "@tensorflow/tfjs-core";
import type { LayersModel } from "@tensorflow/tfjs-layers";
import { type LoraConfig, parseLoraConfig } from "../config/LoraConfig.js";
import { CoreError } from "../errors.js";
import { hostSource } from "../inject/hostSource.js";
import { isLinearHost, type LinearHost } from "../inject/LinearHost.js";
import type { LoraModel } from "../inject/LoraModel.js";
import { layersSource } from "../inject/layersSource.js";
import { type ExtractedLora, extractLora } from "./extractLora.js";

/** Where module weights come from: a tfjs-layers model (Dense/Conv2D/Embedding by layer name), a `LinearHost`, or a map. */
export type WeightSource = LayersModel | LinearHost | Map<string, tf.Tensor>;

/** The adaptable weights of a model by module name, as LoRA sees them. */
export function moduleWeights(source: WeightSource): Map<string, tf.Tensor> {
  if (source instanceof Map) return source;
  if (isLinearHost(source))
    return new Map(
      hostSource(source)
        .sites()
        .map((s) => [s.name, s.weight]),
    );
  if (typeof source === "object" && source !== null && Array.isArray((source as LayersModel).layers))
    return new Map(
      layersSource(source as LayersModel)
        .sites()
        .map((s) => [s.name, s.weight]),
    );
  throw new CoreError(
    "InvalidArgument",
    "expected a LayersModel, a LinearHost or a Map of weights, found none of them",
  );
}

export interface ExtractionReportRow {
  module: string;
  /** [in, out] as LoRA reads the weight. */
  shape: [number, number];
  rank: number;
  relError: number;
  energy: number;
}

export interface ExtractedAdapter {
  /** Per module: factors for `LoraLinear` with scaling 1. */
  layers: Map<string, ExtractedLora>;
  report: ExtractionReportRow[];
  /** PEFT config: `r` the largest rank, per-module ranks in `rank_pattern`, `lora_alpha` = rank (scaling 1). */
  config: LoraConfig;
  /** Disposes every A and B. */
  dispose(): void;
}

/**
 * Extracts a LoRA adapter from a fine-tuned model: per named module, the truncated SVD of W_tuned − W_base
 * at a fixed `rank` or at the smallest rank keeping `energy` of the update. `modules` restricts the set
 * (default: every module of `base`; all must exist with equal shapes in `tuned`). Modules whose weights
 * did not change are skipped.
 */
export function extractLoraFromModels(
  base: WeightSource,
  tuned: WeightSource,
  opts: ({ rank: number } | { energy: number }) & { modules?: string[] },
): ExtractedAdapter {
  const bw = moduleWeights(base);
  const tw = moduleWeights(tuned);
  const names = opts.modules ?? [...bw.keys()];
  const layers = new Map<string, ExtractedLora>();
  const report: ExtractionReportRow[] = [];
  const dispose = () => {
    for (const l of layers.values()) {
      l.A.dispose();
      l.B.dispose();
    }
  };
  try {
    for (const name of names) {
      const b = bw.get(name);
      const t = tw.get(name);
      if (!b || !t)
        throw new CoreError(
          "NoMatchingModules",
          `extractLoraFromModels: expected module "${name}" in both models, found it in ${b ? "base only" : t ? "tuned only" : "neither"}`,
        );
      const choice = "rank" in opts ? { rank: opts.rank } : { energy: opts.energy };
      const e = extractLora(b, t, choice);
      if (e.singularValues.every((s) => s === 0)) {
        e.A.dispose();
        e.B.dispose();
        continue;
      }
      layers.set(name, e);
      report.push({
        module: name,
        shape: [e.A.shape[0], e.B.shape[1]],
        rank: e.rank,
        relError: e.relError,
        energy: e.energy,
      });
    }
  } catch (err) {
    dispose();
    throw err;
  }
  if (layers.size === 0)
    throw new CoreError(
      "NoMatchingModules",
      "extractLoraFromModels: expected a changed module, found every weight equal",
    );
  const r = Math.max(...report.map((x) => x.rank));
  const ranks = Object.fromEntries(report.filter((x) => x.rank !== r).map((x) => [x.module, x.rank]));
  const config = parseLoraConfig({
    r,
    lora_alpha: r,
    target_modules: report.map((x) => x.module),
    rank_pattern: ranks,
    alpha_pattern: ranks,
  });
  return { layers, report, config, dispose };
}

/** Adds an extracted adapter to a `LoraModel` under `name` (not activated). Copies the factors. */
export function addExtractedAdapter(model: LoraModel, name: string, extracted: ExtractedAdapter): void {
  model.registerAdapter(name, extracted.config);
  for (const [module, e] of extracted.layers)
    model.layerFor(module).addAdapter(name, { A: e.A, B: e.B, alpha: e.rank, scaling: 1 });
}
