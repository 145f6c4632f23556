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
