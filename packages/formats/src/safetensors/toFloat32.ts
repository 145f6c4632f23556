import { decodeToFloat32 } from "../dtypeDecode.js";
import { type DtypeArray, typedArrayView } from "../dtypeView.js";
import type { Tensor } from "./SafetensorsFile.js";

/**
 * The tensor's elements as float32 (see `decodeToFloat32`). An aligned F32 tensor comes back as a
 * zero-copy view of the file buffer unless `copy` is set.
 */
export function toFloat32(tensor: Tensor, options: { copy?: boolean } = {}): Float32Array {
  return decodeToFloat32(tensor.dtype, tensor.data, options);
}

/** The tensor's elements in their own typed array (zero-copy when aligned; see `typedArrayView`). */
export function toTypedArray(tensor: Tensor): DtypeArray {
  return typedArrayView(tensor.dtype, tensor.data);
}
