export { adapterDigest, adapterDigestManifest, sha256Hex } from "./digest.js";
export { assertDtype, DTYPES, type Dtype, dtypeBits, dtypeRank, isDtype, tensorByteLength } from "./dtype.js";
export { decodeToFloat32, type EncodableDtype, encodeFromFloat32 } from "./dtypeDecode.js";
export { bf16BitsToF32, f16BitsToF32, f32ToBf16Bits, f32ToF16Bits } from "./dtypeFloat.js";
export { type DtypeArray, typedArrayView } from "./dtypeView.js";
export {
  FORMAT_ERROR_CODES,
  FormatError,
  type FormatErrorCode,
  isFormatError,
  type Result,
  toResult,
  toResultAsync,
} from "./errors.js";
// GGUF
export { GgufFile, LazyGguf, openGguf, parseGguf, safeOpenGguf, safeParseGguf } from "./gguf/GgufFile.js";
export {
  dtypeToGgmlType,
  type GgmlType,
  ggmlByteLength,
  ggmlType,
  ggmlTypeByName,
  ggmlTypeToDtype,
} from "./gguf/ggmlTypes.js";
export {
  type GgufLoraDtype,
  type GgufLoraOptions,
  ggufHeadCounts,
  ggufLoraToPeft,
  MODULE_PREFIX_KEY,
  PEFT_CONFIG_KEY,
  peftToGgufLora,
} from "./gguf/ggufLora.js";
export { ggufMetadataToJson } from "./gguf/ggufMetadataJson.js";
export {
  GGUF_LORA_ARCHITECTURES,
  type GgufArchitectureNames,
  type GgufLoraArchitecture,
  ggufToModule,
  inferGgufArchitecture,
  moduleToGguf,
} from "./gguf/ggufNames.js";
export { ggufToHfModule, hfToGgufTensorName, LLAMA_MODULES } from "./gguf/llamaNames.js";
export { GGUF_DEFAULT_ALIGNMENT, parseGgufHeader } from "./gguf/parseGgufHeader.js";
export { type GgufInput, type GgufTensorInput, serializeGguf } from "./gguf/serializeGguf.js";
export {
  GGUF_VALUE_TYPES,
  type GgufArray,
  type GgufArrayItem,
  type GgufHeader,
  type GgufTensor,
  type GgufTensorInfo,
  type GgufValue,
  type GgufValueType,
} from "./gguf/types.js";
// kohya
export {
  isKohyaLora,
  isSdScriptsMetadataKey,
  type KohyaToPeftOptions,
  kohyaToPeft,
  peftToKohya,
} from "./kohya/kohyaLora.js";
export { knownKohyaModule } from "./kohya/kohyaModuleTables.js";
// Base manifests
export {
  type BaseManifest,
  buildManifest,
  type ManifestModule,
  type ModuleLayout,
  manifestListing,
  parseManifest,
  safeParseManifest,
  serializeManifest,
} from "./manifest/BaseManifest.js";
export {
  type AdapterCheck,
  type AdapterMismatch,
  assertAdapterFitsBase,
  checkAdapterAgainstBase,
  checkModuleAgainstBase,
  type FactorShapes,
  factorMismatch,
  resolveModule,
} from "./manifest/checkAdapterAgainstBase.js";
export {
  DENSE_ARCHITECTURE,
  DENSE_MODEL_TYPE,
  denseKernels,
  denseManifest,
  isDenseStack,
} from "./manifest/denseManifest.js";
export { isKernelModel, kernelManifest } from "./manifest/kernelManifest.js";
export { type HfConfig, manifestFromConfig } from "./manifest/manifestFromConfig.js";
export { CONV1D_MODEL_TYPES, layoutOf, manifestFromHeader } from "./manifest/manifestFromHeader.js";
export { isOutputHeadModule, outputHeadModules } from "./manifest/outputHead.js";
export { type ResolvedArchitecture, resolveArchitecture } from "./manifest/resolveArchitecture.js";
export {
  type ModelCard,
  parseModelCard,
  peftModelCard,
  safeParseModelCard,
  serializeModelCard,
} from "./modelcard/modelCard.js";
// PEFT adapters and model cards
export {
  isTargetModule,
  layerIndexOf,
  type ModuleMatchConfig,
  matchesTarget,
  patternKeyFor,
  patternValue,
  savedModuleOf,
} from "./peft/moduleMatch.js";
export type {
  InitLoraWeights,
  LoraBias,
  PeftAdapter,
  PeftConfig,
  PeftModuleWeights,
  PeftReadResult,
} from "./peft/PeftAdapter.js";
export {
  type ConfigSource,
  configSourceOf,
  KNOWN_LORA_CONFIG_KEYS,
  loraScale,
  parsePeftConfig,
  rankAndAlpha,
  safeParsePeftConfig,
  serializePeftConfig,
} from "./peft/parsePeftConfig.js";
export {
  PEFT_PREFIX,
  type PeftKeyInfo,
  type PeftKeyPart,
  parseModulesToSaveKey,
  parsePeftKey,
  peftKey,
  peftParameterName,
  stripPrefix,
} from "./peft/peftKeys.js";
export { floatPathsOf, pythonJsonDumps } from "./peft/pythonJson.js";
export {
  MODEL_CARD_FILE,
  PEFT_CONFIG_FILE,
  PEFT_PICKLE_FILE,
  PEFT_WEIGHTS_FILE,
  pickleRefusedMessage,
  readPeftAdapter,
  safeReadPeftAdapter,
} from "./peft/readPeftAdapter.js";
export { PEFT_CONFIG_DEFAULTS, validatePeftConfig } from "./peft/validatePeftConfig.js";
export { peftTensors, writePeftAdapter } from "./peft/writePeftAdapter.js";
export { type AdapterFileFormat, type ReadAdapterFilesOptions, readAdapterFiles } from "./readAdapterFiles.js";
export { LENGTH_PREFIX_BYTES, MAX_HEADER_BYTES, readHeaderLength } from "./safetensors/headerLength.js";
export {
  type ByteSource,
  blobSource,
  LazySafetensors,
  openSafetensorsBlob,
  openSafetensorsSource,
  safeOpenSafetensorsBlob,
} from "./safetensors/LazySafetensors.js";
export { parseSafetensors, safeParseSafetensors } from "./safetensors/parseSafetensors.js";
export {
  METADATA_KEY,
  parseSafetensorsHeader,
  type SafetensorsHeader,
  type TensorInfo,
} from "./safetensors/parseSafetensorsHeader.js";
export { SafetensorsFile, SafetensorsIndex, type Tensor } from "./safetensors/SafetensorsFile.js";
export {
  type PreparedSafetensors,
  prepareSafetensors,
  serializeSafetensors,
  type TensorInput,
  type TensorInputs,
} from "./safetensors/serializeSafetensors.js";
export { toFloat32, toTypedArray } from "./safetensors/toFloat32.js";
