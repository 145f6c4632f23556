// Public API of @lowrank/core, listed by hand. Keep additive: several engineers add to it.

export {
  addWeightedAdapter,
  addWeightedAdapterToLayer,
  type CombinationType,
  combinedRank,
  type WeightedAdapterOptions,
} from "./compose/addWeightedAdapter.js";
export {
  disjointMerge,
  type MajoritySignMethod,
  magnitudePrune,
  mergeTaskTensors,
  randomPrune,
  type TaskMerge,
} from "./compose/mergeUtils.js";
export {
  type InitLoraWeights,
  LORA_CONFIG_DEFAULTS,
  type LoraBias,
  type LoraConfig,
  loraScaling,
  parseLoraConfig,
  safeParseLoraConfig,
} from "./config/LoraConfig.js";
export {
  isTargetModule,
  layerIndexOf,
  matchesModuleList,
  patternKeyFor,
  peftParameterName,
  rankAndAlphaFor,
  savedModuleOf,
} from "./config/moduleMatch.js";
export { CoreError, type CoreErrorCode, isCoreError } from "./errors.js";
export { countParameters, injectLora } from "./inject/injectLora.js";
export { isLinearHost, type LinearHost, type LinearModule } from "./inject/LinearHost.js";
export { LoraModel } from "./inject/LoraModel.js";
export { GATHER_STRATEGIES, type GatherStrategy } from "./kernels/composed/Bgmv.js";
export type { AdapterPair } from "./kernels/composed/BgmvSegmented.js";
export { SEGMENT_STRATEGIES, type SegmentStrategy } from "./kernels/composed/Sgmv.js";
export { type ConformanceCase, kernelConformanceCases } from "./kernels/conformance.js";
export { bgmvImpl, type GatherDims } from "./kernels/cpu/Bgmv.js";
export { type LinearDims, loraLinearImpl } from "./kernels/cpu/LoraLinear.js";
export { type SegmentArrays, sgmvImpl } from "./kernels/cpu/Sgmv.js";
export { LORA_BGMV, LORA_KERNEL_NAMES, LORA_LINEAR, LORA_SGMV, type LoraKernelName } from "./kernels/names.js";
export {
  type AdapterListOptions,
  type AdapterListPath,
  bgmv,
  bgmvAdapters,
  DEFAULT_ADAPTER_LIST_PATH,
  DEFAULT_STRATEGY,
  type GatherOptions,
  loraKernelPath,
  loraLinear,
  type SegmentOptions,
  type Segments,
  sgmv,
} from "./kernels/ops.js";
export { LORA_KERNEL_CONFIGS, registerLoraKernels } from "./kernels/registerLoraKernels.js";
export { stackAdapters } from "./kernels/stackAdapters.js";
export { type InitialAdapter, initAdapter } from "./lora/initAdapter.js";
export {
  type AdapterInit,
  type AdapterTensors,
  BASE_ADAPTER,
  type LoraAdapterWeights,
  LoraLinear,
  type LoraLinearOptions,
  toVariable,
} from "./lora/LoraLinear.js";
export {
  adapterFromPeft,
  adapterToPeft,
  baseWeightToTfLayout,
  type PeftAdapterLike,
  type PeftTensorLike,
} from "./peft/peftBridge.js";
export { Rng } from "./random.js";
export { effectiveRank, energyKept } from "./rank/effectiveRank.js";
export { type ExtractedLora, extractLora, type RankChoice } from "./rank/extractLora.js";
export {
  addExtractedAdapter,
  type ExtractedAdapter,
  type ExtractionReportRow,
  extractLoraFromModels,
  moduleWeights,
  type WeightSource,
} from "./rank/extractLoraFromModels.js";
export { type RankSweepOptions, type RankSweepRow, type RankTrial, rankSweep } from "./rank/rankSweep.js";
export { adapterSingularValues, type LowRankFactors, singularValues } from "./rank/singularValues.js";
export { denseSingularValues, lowRankSingularValues, type ThinSvd, thinSvd } from "./rank/svd.js";
export { isRecipe, type Recipe, type RecipeBaseStep, type RecipeData } from "./recipe/Recipe.js";
export {
  type LossFn,
  type LossName,
  type MetricFn,
  type TrainAdapterOptions,
  type TrainableModel,
  type TrainResult,
  type TrainStep,
  trainAdapter,
} from "./train/trainAdapter.js";
