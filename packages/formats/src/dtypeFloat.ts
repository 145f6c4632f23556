/**
 * Bit-level conversions between float32 and the narrow float types of safetensors. Everything here
 * works on raw bit patterns (numbers), so it runs the same in Node and in browsers.
 */

const scratch = new DataView(new ArrayBuffer(4));

function f32Bits(value: number): number {
  scratch.setFloat32(0, value, true);
  return scratch.getUint32(0, true);
}

function bitsF32(bits: number): number {
  scratch.setUint32(0, bits >>> 0, true);
  return scratch.getFloat32(0, true);
}

/** float32 -> IEEE binary16 bits, round to nearest, ties to even; overflow gives +-Inf, NaN stays NaN. */
export function f32ToF16Bits(value: number): number {
  const x = f32Bits(value);
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return mant === 0 ? sign | 0x7c00 : sign | 0x7e00 | (mant >>> 13);
  const e = exp - 112; // rebias 127 -> 15
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    const m = mant | 0x800000;
    const shift = 14 - e;
    let r = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && (r & 1) === 1)) r++;
    return sign | r;
  }
  let r = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (r & 1) === 1)) r++; // a carry into the exponent is correct, up to Inf
  return sign | r;
}

/** IEEE binary16 bits -> number (exact). */
export function f16BitsToF32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >>> 10) & 0x1f;
  const mant = bits & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant === 0 ? sign * Number.POSITIVE_INFINITY : Number.NaN;
  return sign * (1024 + mant) * 2 ** (exp - 25);
}

/** float32 -> bfloat16 bits, round to nearest, ties to even; NaN stays a (quiet) NaN. */
export function f32ToBf16Bits(value: number): number {
  const x = f32Bits(value);
  if ((x & 0x7f800000) === 0x7f800000 && (x & 0x7fffff) !== 0) return ((x >>> 16) | 0x40) & 0xffff;
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}

/** bfloat16 bits -> number (exact). */
export function bf16BitsToF32(bits: number): number {
  return bitsF32((bits & 0xffff) << 16);
}

/** A small float with no infinities unless `ieee` (then all-ones exponent is Inf/NaN like IEEE). */
interface Minifloat {
  expBits: number;
  mantBits: number;
  bias: number;
  /** "ieee": all-ones exponent is Inf (mantissa 0) or NaN; "fn": only all-ones exp+mantissa is NaN;
   * "fnuz": only the negative-zero pattern is NaN; "none": every pattern is finite. */
  special: "ieee" | "fn" | "fnuz" | "none";
}

function decodeMinifloat(bits: number, f: Minifloat): number {
  const total = 1 + f.expBits + f.mantBits;
  const signBit = 1 << (total - 1);
  const expMax = (1 << f.expBits) - 1;
  const mantMask = (1 << f.mantBits) - 1;
  const negative = (bits & signBit) !== 0;
  const exp = (bits >>> f.mantBits) & expMax;
  const mant = bits & mantMask;
  if (f.special === "fnuz" && bits === signBit) return Number.NaN;
  if (f.special === "ieee" && exp === expMax) {
    if (mant !== 0) return Number.NaN;
    return negative ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  }
  if (f.special === "fn" && exp === expMax && mant === mantMask) return Number.NaN;
  const magnitude =
    exp === 0 ? mant * 2 ** (1 - f.bias - f.mantBits) : (mant + (1 << f.mantBits)) * 2 ** (exp - f.bias - f.mantBits);
  return negative ? -magnitude : magnitude;
}

function table(size: number, decode: (bits: number) => number): Float32Array {
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = decode(i);
  return out;
}

export type Float8Dtype = "F8_E4M3" | "F8_E5M2" | "F8_E8M0" | "F8_E4M3FNUZ" | "F8_E5M2FNUZ";

const FLOAT8: Record<Float8Dtype, (bits: number) => number> = {
  F8_E4M3: (b) => decodeMinifloat(b, { expBits: 4, mantBits: 3, bias: 7, special: "fn" }),
  F8_E5M2: (b) => decodeMinifloat(b, { expBits: 5, mantBits: 2, bias: 15, special: "ieee" }),
  F8_E4M3FNUZ: (b) => decodeMinifloat(b, { expBits: 4, mantBits: 3, bias: 8, special: "fnuz" }),
  F8_E5M2FNUZ: (b) => decodeMinifloat(b, { expBits: 5, mantBits: 2, bias: 16, special: "fnuz" }),
  // OCP MX scale type: unsigned, exponent only, 0xFF is NaN.
  F8_E8M0: (b) => (b === 0xff ? Number.NaN : 2 ** (b - 127)),
};

const tables = new Map<string, Float32Array>();

function cached(key: string, size: number, decode: (bits: number) => number): Float32Array {
  let t = tables.get(key);
  if (!t) {
    t = table(size, decode);
    tables.set(key, t);
  }
  return t;
}

/** 256-entry float32 lookup table for an 8-bit float type. */
export function float8Table(dtype: Float8Dtype): Float32Array {
  return cached(dtype, 256, FLOAT8[dtype]);
}

/** 65536-entry float32 lookup table for binary16, built once on first use. */
export function f16Table(): Float32Array {
  return cached("F16", 65536, f16BitsToF32);
}

/** 16-entry table for F4 (OCP MXFP4, E2M1: 0, 0.5, 1, 1.5, 2, 3, 4, 6 and negatives). */
export function f4Table(): Float32Array {
  return cached("F4", 16, (b) => decodeMinifloat(b, { expBits: 2, mantBits: 1, bias: 1, special: "none" }));
}
