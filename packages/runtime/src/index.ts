export {
  type BackendInfo,
  type BackendName,
  type BackendRequest,
  backendInfo,
  type InitBackendOptions,
  initBackend,
} from "./backend/initBackend.js";
export { parseThreads } from "./backend/wasm.js";
export {
  CHROMIUM_SWIFTSHADER_ICD,
  installNodeWebGPU,
  type NodeWebGPUInfo,
  type NodeWebGPUOptions,
} from "./backend/webgpu-node.js";
export { AdapterCache, type AdapterCacheStats, type Cacheable } from "./engine/AdapterCache.js";
export { AdapterRegistry } from "./engine/AdapterRegistry.js";
export { BatchScheduler, type Clock, systemClock } from "./engine/BatchScheduler.js";
export { checkForwardInput } from "./engine/checkForwardInput.js";
export { type BatchComputeOptions, type BatchRow, computeBatch } from "./engine/computeBatch.js";
export {
  type AdapterInfo,
  Engine,
  type EngineOptions,
  type EngineStats,
  type GenerateRequest,
} from "./engine/Engine.js";
export { engineOptionsSchema, type ResolvedEngineOptions, resolveEngineOptions } from "./engine/engineOptions.js";
export {
  type GatherLoraKernel,
  type LoraBatchKernel,
  LoraBatchPlan,
  type RowAdapter,
} from "./engine/LoraBatchPlan.js";
export { peftAdapterFromBytes, peftLoader, readPeftFiles } from "./engine/peftLoader.js";
export { ResidentAdapter } from "./engine/ResidentAdapter.js";
export {
  createSyntheticCausalLm,
  createSyntheticMlp,
  type SyntheticAdapterSpec,
  seededValues,
  syntheticAdapter,
  syntheticAdapterArrays,
  syntheticModuleName,
} from "./engine/synthetic.js";
export { syntheticPeftFiles } from "./engine/syntheticPeft.js";
export { type MlpArrays, mlpArrays, referenceMlp } from "./engine/testing.js";
export {
  type AdapterLoader,
  type AdapterModuleWeights,
  type AdapterSource,
  type AdapterWeights,
  BASE_ADAPTER,
  type ForwardRequest,
  type ForwardResult,
  type LinearFn,
  type LinearModule as ServableLinear,
  type ServableBase,
  type WeightLayout,
} from "./engine/types.js";
export {
  errorResponse,
  HTTP_STATUS,
  HttpError,
  isRuntimeError,
  RUNTIME_ERROR_CODES,
  RuntimeError,
  type RuntimeErrorCode,
} from "./errors.js";
export { BatchKv } from "./generation/BatchKv.js";
export {
  type FinishReason,
  type GenerationRequest,
  type GenerationResult,
  GenerationScheduler,
  type SchedulerOptions,
  type SchedulerStats,
} from "./generation/GenerationScheduler.js";
export { type KvDecoder, kvDecoderFor, type SequenceKv } from "./generation/KvDecoder.js";
export { mixedLinear, type WeightFor } from "./generation/mixedLinear.js";
export { Sampler, type SamplerOptions } from "./generation/sampler.js";
export { createSyntheticGpt2, type SyntheticGpt2Options } from "./generation/syntheticGpt2.js";
export { TextStream } from "./generation/TextStream.js";
export { adapterLinear, type LinearModel } from "./models/adapterLinear.js";
export { Bert, type BertConfig, type BertInputs, parseBertConfig } from "./models/Bert.js";
export { CharSeq2Seq } from "./models/CharSeq2Seq.js";
export { Checkpoint, type HfFiles, hfFilesFromBytes } from "./models/Checkpoint.js";
export {
  type CharSeq2SeqConfig,
  charSeq2SeqConfigSchema,
  parseCharSeq2SeqConfig,
} from "./models/charSeq2SeqConfig.js";
export { DenseClassifier, type DenseLayerSpec } from "./models/DenseClassifier.js";
export { disposeCache, Gpt2, type Gpt2Config, type KvCache, parseGpt2Config } from "./models/Gpt2.js";
export {
  type GenerateIdsResult,
  type GenerateOptions,
  type GenerateResult,
  generate,
  generateIds,
} from "./models/generate.js";
export { denseApply, HfBase, type LinearSpec } from "./models/HfBase.js";
export { manifestFromConfig } from "./models/hfManifest.js";
export {
  type BaseModel,
  baseModelFromBytes,
  baseModelFromFiles,
  type HfModel,
  hfModelFromBytes,
  hfModelFromFiles,
  loadBaseModel,
  loadHfModel,
  readHfFiles,
} from "./models/loadHfModel.js";
export {
  type AdapterShapes,
  adapterMismatches,
  type BaseManifest,
  buildManifest,
  type ManifestModule,
  type ModuleLayout,
  manifestListing,
} from "./models/manifest.js";
export { type MergeOptions, type MergeReport, mergeHfFolder, writeFolderAtomically } from "./models/mergeHfFolder.js";
export { argmax, type SamplingOptions, sampleToken } from "./models/sampleToken.js";
export {
  adapterFolder,
  defineRoute,
  type EngineRoutesOptions,
  type EngineServer,
  type EngineServerOptions,
  engineRoutes,
  forwardBody,
  generateBody,
  loadBody,
  type OpenAiOptions,
  openAiHandler,
  type Route,
  type RouteContext,
  RouteStream,
  startEngineServer,
  unloadBody,
} from "./server/index.js";
export { byteLevelBpeJson, loadTokenizer, type TextTokenizer, tokenizerFromJson } from "./tokenizer/loadTokenizer.js";
