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
