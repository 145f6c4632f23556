export { RuntimeError, isRuntimeError, type RuntimeErrorCode } from "./backend/errors.js";
export {
  initBackend,
  backendInfo,
  type BackendInfo,
  type BackendName,
  type BackendRequest,
  type InitBackendOptions,
} from "./backend/initBackend.js";
export { Engine, type AdapterInfo, type EngineOptions, type EngineStats, type GenerateRequest } from "./engine/Engine.js";
export { AdapterCache, type AdapterCacheStats, type Cacheable } from "./engine/AdapterCache.js";
export { LoraBatchPlan, type GatherLoraKernel, type RowAdapter } from "./engine/LoraBatchPlan.js";
export { ResidentAdapter } from "./engine/ResidentAdapter.js";
export { peftAdapterFromBytes, peftLoader, readPeftFiles } from "./engine/peftLoader.js";
export {
  createSyntheticCausalLm,
  createSyntheticMlp,
  seededValues,
  syntheticAdapter,
  syntheticAdapterArrays,
  syntheticModuleName,
  type SyntheticAdapterSpec,
} from "./engine/synthetic.js";
export { syntheticPeftFiles } from "./engine/syntheticPeft.js";
export {
  BASE_ADAPTER,
  type AdapterLoader,
  type AdapterModuleWeights,
  type AdapterSource,
  type AdapterWeights,
  type ForwardRequest,
  type ForwardResult,
  type LinearFn,
  type LinearModule as ServableLinear,
  type ServableBase,
  type WeightLayout,
} from "./engine/types.js";
export { errorResponse, HTTP_STATUS, HttpError, type EngineServer, type EngineServerOptions, startEngineServer } from "./server/index.js";
export { mlpArrays, referenceMlp, type MlpArrays } from "./engine/testing.js";
export { Bert, type BertConfig, type BertInputs, parseBertConfig } from "./models/Bert.js";
export { adapterLinear } from "./models/adapterLinear.js";
export { Checkpoint, type HfFiles, hfFilesFromBytes } from "./models/Checkpoint.js";
export { generate, generateIds, type GenerateIdsResult, type GenerateOptions, type GenerateResult } from "./models/generate.js";
export { disposeCache, Gpt2, type Gpt2Config, type KvCache, parseGpt2Config } from "./models/Gpt2.js";
export { denseApply, HfBase, type LinearSpec } from "./models/HfBase.js";
export { hfModelFromBytes, hfModelFromFiles, type HfModel, loadHfModel, readHfFiles } from "./models/loadHfModel.js";
export {
  adapterMismatches,
  type AdapterShapes,
  type BaseManifest,
  buildManifest,
  type ManifestModule,
  manifestListing,
  type ModuleLayout,
} from "./models/manifest.js";
export { argmax, type SamplingOptions, sampleToken } from "./models/sampleToken.js";
export { byteLevelBpeJson, loadTokenizer, type TextTokenizer, tokenizerFromJson } from "./tokenizer/loadTokenizer.js";
export { type MergeOptions, type MergeReport, mergeHfFolder, writeFolderAtomically } from "./models/mergeHfFolder.js";
export { manifestFromConfig } from "./models/hfManifest.js";
