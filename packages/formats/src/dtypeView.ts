import type { Dtype } from "./dtype.js";

/** The typed array that holds each dtype's elements (raw bit patterns for the narrow floats). */
export type DtypeArray =
  | Uint8Array
  | Int8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | Float32Array
  | Float64Array
  | BigInt64Array
  | BigUint64Array;

type ArrayCtor = {
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): DtypeArray;
  readonly BYTES_PER_ELEMENT: number;
};

const CTORS: Partial<Record<Dtype, ArrayCtor>> = {
  I8: Int8Array,
  I16: Int16Array,
  U16: Uint16Array,
  F16: Uint16Array,
  BF16: Uint16Array,
  I32: Int32Array,
  U32: Uint32Array,
  F32: Float32Array,
  C64: Float32Array, // interleaved (re, im)
  F64: Float64Array,
  I64: BigInt64Array,
  U64: BigUint64Array,
};

/** True on little-endian hosts (all mainstream ones); safetensors data is little-endian. */
export const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Typed array over a tensor's bytes. Zero-copy when the bytes are aligned for the element type
 * (and the host is little-endian); otherwise the bytes are copied first. Types narrower than a
 * byte or without a JS number type (F4, F6, F8, BOOL, U8) come back as their raw `Uint8Array`;
 * F16 and BF16 as `Uint16Array` bit patterns; C64 as interleaved `Float32Array`.
 * A zero-copy view shares memory with the file buffer: writing to it changes the buffer.
 */
export function typedArrayView(dtype: Dtype, bytes: Uint8Array): DtypeArray {
  const Ctor = CTORS[dtype];
  if (!Ctor) return bytes;
  const size = Ctor.BYTES_PER_ELEMENT;
  const length = Math.floor(bytes.byteLength / size);
  if (HOST_LITTLE_ENDIAN && bytes.byteOffset % size === 0) {
    return new Ctor(bytes.buffer, bytes.byteOffset, length);
  }
  const copy = bytes.slice(0, length * size);
  if (!HOST_LITTLE_ENDIAN) swapBytes(copy, size);
  return new Ctor(copy.buffer, 0, length);
}

function swapBytes(bytes: Uint8Array, size: number): void {
  for (let i = 0; i + size <= bytes.length; i += size) {
    for (let a = i, b = i + size - 1; a < b; a++, b--) {
      const t = bytes[a] as number;
      bytes[a] = bytes[b] as number;
      bytes[b] = t;
    }
  }
}
