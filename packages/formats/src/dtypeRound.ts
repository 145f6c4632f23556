import { f32ToBf16Bits, f32ToF16Bits } from "./dtypeFloat.js";

export type RoundedDtype = "F32" | "F16" | "BF16";

/** x rounded once, to nearest with ties to even, to a binary float with `mantBits` and normal exponents from `minExp`. */
function roundOnce(x: number, mantBits: number, minExp: number, maxFinite: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  const a = Math.abs(x);
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  else if (2 ** (e + 1) <= a) e++;
  const ulp = 2 ** (Math.max(e, minExp) - mantBits);
  const q = a / ulp; // exact: a power-of-two scaling
  const f = Math.floor(q);
  const d = q - f;
  const n = d > 0.5 || (d === 0.5 && f % 2 === 1) ? f + 1 : f;
  const r = n * ulp;
  return Math.sign(x) * (r > maxFinite ? Number.POSITIVE_INFINITY : r);
}

const F16_MAX = 65504;
const BF16_MAX = (2 - 2 ** -7) * 2 ** 127;

/**
 * Encodes double-precision values to F32, F16 or BF16 with one rounding each (to nearest, ties to
 * even), as numpy's float64 -> float16 cast does. `encodeFromFloat32` rounds to F32 first, which
 * rounds twice when the values are products or quotients computed in double precision.
 */
export function encodeRounded(dtype: RoundedDtype, values: ArrayLike<number>): Uint8Array {
  const n = values.length;
  if (dtype === "F32") {
    const out = new Uint8Array(n * 4);
    const view = new DataView(out.buffer);
    for (let i = 0; i < n; i++) view.setFloat32(4 * i, values[i] as number, true);
    return out;
  }
  const out = new Uint8Array(n * 2);
  for (let i = 0; i < n; i++) {
    const v = values[i] as number;
    const b =
      dtype === "F16" ? f32ToF16Bits(roundOnce(v, 10, -14, F16_MAX)) : f32ToBf16Bits(roundOnce(v, 7, -126, BF16_MAX));
    out[2 * i] = b & 0xff;
    out[2 * i + 1] = b >>> 8;
  }
  return out;
}
