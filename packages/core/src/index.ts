// Public API of @lowrank/core, listed by hand. Keep additive: several engineers add to it.
export { CoreError, isCoreError, type CoreErrorCode } from "./errors.js";
export {
  LORA_CONFIG_DEFAULTS,
  loraScaling,
  parseLoraConfig,
  safeParseLoraConfig,
  type InitLoraWeights,
  type LoraBias,
  type LoraConfig,
} from "./config/LoraConfig.js";
export { isTargetModule, layerIndexOf, matchesModuleList, patternKeyFor, rankAndAlphaFor } from "./config/moduleMatch.js";
export {
  BASE_ADAPTER,
  LoraLinear,
  toVariable,
  type AdapterInit,
  type AdapterTensors,
  type LoraAdapterWeights,
  type LoraLinearOptions,
} from "./lora/LoraLinear.js";
export { initAdapter, type InitialAdapter } from "./lora/initAdapter.js";
export { Rng } from "./random.js";
export { isLinearHost, type LinearHost, type LinearModule } from "./inject/LinearHost.js";
export { LoraModel } from "./inject/LoraModel.js";
export { countParameters, injectLora } from "./inject/injectLora.js";
export { adapterFromPeft, adapterToPeft, baseWeightToTfLayout, type PeftAdapterLike, type PeftTensorLike } from "./peft/peftBridge.js";
export {
  trainAdapter,
  type LossFn,
  type LossName,
  type MetricFn,
  type TrainableModel,
  type TrainAdapterOptions,
  type TrainResult,
  type TrainStep,
} from "./train/trainAdapter.js";
export {
  addWeightedAdapter,
  addWeightedAdapterToLayer,
  combinedRank,
  type CombinationType,
  type WeightedAdapterOptions,
} from "./compose/addWeightedAdapter.js";
export { disjointMerge, magnitudePrune, mergeTaskTensors, randomPrune, type MajoritySignMethod, type TaskMerge } from "./compose/mergeUtils.js";
export { isRecipe, type Recipe, type RecipeData } from "./recipe/Recipe.js";
