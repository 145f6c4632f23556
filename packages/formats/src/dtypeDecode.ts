import { type Dtype, dtypeBits } from "./dtype.js";
import { bf16BitsToF32, f4Table, f16Table, f32ToBf16Bits, f32ToF16Bits, float8Table } from "./dtypeFloat.js";
import { HOST_LITTLE_ENDIAN, typedArrayView } from "./dtypeView.js";
import { FormatError } from "./errors.js";

/**
 * Element values of raw little-endian tensor bytes as float32. F32 bytes that are aligned come back
 * as a zero-copy view unless `copy` is set; every other dtype is converted into a new array.
 * Integers wider than 24 bits and F64 round to the nearest float32. F4 is two elements per byte,
 * low nibble first. F6 and C64 are refused (`UnsupportedDtype`).
 */
export function decodeToFloat32(dtype: Dtype, bytes: Uint8Array, options: { copy?: boolean } = {}): Float32Array {
  const bits = dtypeBits(dtype);
  const count = Math.floor((bytes.byteLength * 8) / bits);
  switch (dtype) {
    case "F32": {
      const view = typedArrayView(dtype, bytes) as Float32Array;
      return options.copy && view.buffer === bytes.buffer ? view.slice() : view;
    }
    case "F16":
      return lookup16(typedArrayView(dtype, bytes) as Uint16Array, f16Table());
    case "BF16":
      return bf16ToF32(typedArrayView(dtype, bytes) as Uint16Array);
    case "F8_E4M3":
    case "F8_E5M2":
    case "F8_E8M0":
    case "F8_E4M3FNUZ":
    case "F8_E5M2FNUZ":
      return lookup8(bytes, float8Table(dtype));
    case "F4": {
      const table = f4Table();
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) {
        const byte = bytes[i >> 1] as number;
        out[i] = table[i & 1 ? byte >> 4 : byte & 0xf] as number;
      }
      return out;
    }
    case "BOOL": {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = bytes[i] === 0 ? 0 : 1;
      return out;
    }
    case "I64":
    case "U64": {
      const src = typedArrayView(dtype, bytes) as BigInt64Array | BigUint64Array;
      const out = new Float32Array(src.length);
      for (let i = 0; i < src.length; i++) out[i] = Number(src[i]);
      return out;
    }
    case "U8":
    case "I8":
    case "I16":
    case "U16":
    case "I32":
    case "U32":
    case "F64":
      return Float32Array.from(typedArrayView(dtype, bytes) as ArrayLike<number>);
    case "F6_E2M3":
    case "F6_E3M2":
    case "C64":
      throw new FormatError(
        "UnsupportedDtype",
        `decodeToFloat32: expected a real dtype with a defined element layout, found ${dtype}`,
      );
  }
}

function lookup16(src: Uint16Array, table: Float32Array): Float32Array {
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = table[src[i] as number] as number;
  return out;
}

function lookup8(src: Uint8Array, table: Float32Array): Float32Array {
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = table[src[i] as number] as number;
  return out;
}

function bf16ToF32(src: Uint16Array): Float32Array {
  if (!HOST_LITTLE_ENDIAN) return Float32Array.from(src, bf16BitsToF32);
  const n = src.length;
  const out = new Int32Array(n);
  let i = 0;
  if (src.byteOffset % 4 === 0) {
    // Two elements per 32-bit read: the low half is element 2k, the high half element 2k+1.
    const pairs = new Int32Array(src.buffer, src.byteOffset, n >> 1);
    for (let k = 0; k < pairs.length; k++) {
      const w = pairs[k] as number;
      out[2 * k] = w << 16;
      out[2 * k + 1] = w & -65536;
    }
    i = pairs.length * 2;
  }
  for (; i < n; i++) out[i] = (src[i] as number) << 16;
  return new Float32Array(out.buffer);
}

export type EncodableDtype = "F32" | "F16" | "BF16" | "F64";

/** float32 values -> little-endian bytes of `dtype` (F16 and BF16 round to nearest, ties to even). */
export function encodeFromFloat32(dtype: EncodableDtype, values: ArrayLike<number>): Uint8Array {
  const n = values.length;
  if (dtype === "F16" || dtype === "BF16") {
    const out = new Uint8Array(n * 2);
    const convert = dtype === "F16" ? f32ToF16Bits : f32ToBf16Bits;
    for (let i = 0; i < n; i++) {
      const b = convert(values[i] as number);
      out[2 * i] = b & 0xff;
      out[2 * i + 1] = b >>> 8;
    }
    return out;
  }
  const out = new Uint8Array(n * (dtype === "F32" ? 4 : 8));
  const view = new DataView(out.buffer);
  for (let i = 0; i < n; i++) {
    if (dtype === "F32") view.setFloat32(4 * i, values[i] as number, true);
    else view.setFloat64(8 * i, values[i] as number, true);
  }
  return out;
}
