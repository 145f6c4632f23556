import type * as tf from "@tensorflow/tfjs-core";
import type { LayersModel } from "@tensorflow/tfjs-layers";
import type { LoraConfig } from "../config/LoraConfig.js";
import type { LinearHost } from "../inject/LinearHost.js";
import type { LossFn, LossName, MetricFn } from "../train/trainAdapter.js";

/**
 * A training recipe (examples/src/recipes/*.ts export one; `lowrank train NAME` runs it):
 * data, a frozen base, a LoRA config, a loss. Everything it loads comes through `load`, so core stays I/O-free.
 */
export interface Recipe {
  name: string;
  description: string;
  defaults?: { rank?: number; epochs?: number; batchSize?: number; learningRate?: number; seed?: number };
  /** Training data: rows of `x` with targets `y` (owned by the caller once returned). */
  load(opts: { seed: number }): Promise<RecipeData> | RecipeData;
  /**
   * The frozen base model (pretrained or built here) that the adapter is trained on. A base trained
   * here reports each step through `onStep` so a caller can show progress.
   */
  buildBase(opts: {
    seed: number;
    onStep?: (s: RecipeBaseStep) => void;
  }): Promise<LayersModel | LinearHost> | LayersModel | LinearHost;
  /** The LoRA config for a given rank. */
  loraConfig(opts: { rank: number }): LoraConfig | Record<string, unknown>;
  loss: LossName | LossFn;
  metrics?: Array<"accuracy"> | Record<string, MetricFn>;
}

/** One optimizer step of a recipe's base training. */
export interface RecipeBaseStep {
  step: number;
  totalSteps: number;
  loss: number;
}

export interface RecipeData {
  x: tf.Tensor;
  y: tf.Tensor;
  /** Optional held-out split reported after training. */
  test?: { x: tf.Tensor; y: tf.Tensor };
}

/** True for an object shaped like a `Recipe` (checked when a recipe module is imported by name). */
export function isRecipe(x: unknown): x is Recipe {
  if (typeof x !== "object" || x === null) return false;
  const r = x as Recipe;
  return (
    typeof r.name === "string" &&
    typeof r.load === "function" &&
    typeof r.buildBase === "function" &&
    typeof r.loraConfig === "function"
  );
}
