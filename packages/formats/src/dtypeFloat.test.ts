import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  bf16BitsToF32,
  f4Table,
  f16BitsToF32,
  f16Table,
  f32ToBf16Bits,
  f32ToF16Bits,
  float8Table,
} from "./dtypeFloat.js";

// Independent references: the textbook formulas, written out separately from the code under test.
function refF16(bits: number): number {
  const s = bits >> 15 ? -1 : 1;
  const e = (bits >> 10) & 31;
  const m = bits & 1023;
  if (e === 31) return m ? Number.NaN : s * Number.POSITIVE_INFINITY;
  return e === 0 ? s * (m / 1024) * 2 ** -14 : s * (1 + m / 1024) * 2 ** (e - 15);
}

function refBf16(bits: number): number {
  const f = new Float32Array(new Uint32Array([bits << 16]).buffer);
  return f[0] as number;
}

/**
 * Checks that `bits` is the nearest representable value to x, ties to the even pattern.
 * `overflowAt` = largest finite + half an ulp: from there on (the tie included, since the largest
 * finite pattern is odd) round-to-nearest-even gives infinity.
 */
function expectNearest(x: number, bits: number, decode: (b: number) => number, overflowAt: number): void {
  const v = decode(bits);
  if (Number.isNaN(x)) return void expect(Number.isNaN(v)).toBe(true);
  if (Math.abs(x) >= overflowAt) return void expect(v).toBe(Math.sign(x) * Number.POSITIVE_INFINITY);
  expect(Number.isFinite(v), `x=${x} must stay finite`).toBe(true);
  const err = Math.abs(x - v);
  for (const n of [bits - 1, bits + 1]) {
    if ((n & 0x7fff) !== (bits & 0x7fff) + (n > bits ? 1 : -1) || n < 0) continue; // stay in one sign
    const other = Math.abs(x - decode(n));
    if (!Number.isFinite(decode(n))) continue;
    expect(err, `x=${x} bits=${bits.toString(16)} neighbour=${n.toString(16)}`).toBeLessThanOrEqual(other);
    if (err === other) expect(bits & 1, `tie at ${x} must go to even`).toBe(0);
  }
}

describe("binary16", () => {
  it("decodes all 65536 patterns exactly like the textbook formula", () => {
    const table = f16Table();
    const wrong: number[] = [];
    for (let b = 0; b < 65536; b++) {
      const want = refF16(b);
      const same = (v: number) => (Number.isNaN(want) ? Number.isNaN(v) : Object.is(v, want));
      if (!same(table[b] as number) || !same(f16BitsToF32(b))) wrong.push(b);
    }
    expect(wrong).toEqual([]);
  });

  it("encodes every non-NaN f16 value back to its own bits", () => {
    const wrong: number[] = [];
    for (let b = 0; b < 65536; b++) {
      if (((b >> 10) & 31) === 31 && (b & 1023) !== 0) continue;
      if (f32ToF16Bits(refF16(b)) !== b) wrong.push(b);
    }
    expect(wrong).toEqual([]);
  });

  it("hand-picked rounding cases", () => {
    expect(f32ToF16Bits(1 + 2 ** -11)).toBe(0x3c00); // tie -> even (down)
    expect(f32ToF16Bits(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie -> even (up)
    expect(f32ToF16Bits(65504)).toBe(0x7bff);
    expect(f32ToF16Bits(65520)).toBe(0x7c00); // halfway to 2^16 rounds to Inf
    expect(f32ToF16Bits(2 ** -25)).toBe(0); // half the smallest subnormal: tie -> 0
    expect(f32ToF16Bits(2 ** -25 * 1.0001)).toBe(1);
    expect(f32ToF16Bits(-0)).toBe(0x8000);
    expect(f32ToF16Bits(Number.NaN) & 0x7e00).toBe(0x7e00);
    expect(f32ToF16Bits(Number.NEGATIVE_INFINITY)).toBe(0xfc00);
  });

  it("rounds random float32 values to the nearest f16, ties to even", () => {
    fc.assert(
      fc.property(fc.float({ noNaN: true }), (x) => {
        expectNearest(x, f32ToF16Bits(x), refF16, 65520);
      }),
      { numRuns: 3000 },
    );
  });
});

describe("bfloat16", () => {
  it("decodes as the top half of a float32", () => {
    for (let b = 0; b < 65536; b += 7) {
      const want = refBf16(b);
      if (Number.isNaN(want)) expect(Number.isNaN(bf16BitsToF32(b))).toBe(true);
      else expect(bf16BitsToF32(b)).toBe(want);
    }
  });

  it("hand-picked rounding cases", () => {
    expect(f32ToBf16Bits(1)).toBe(0x3f80);
    expect(f32ToBf16Bits(1 + 2 ** -8)).toBe(0x3f80); // tie -> even
    expect(f32ToBf16Bits(1 + 3 * 2 ** -8)).toBe(0x3f82);
    expect(f32ToBf16Bits(3.4028234663852886e38)).toBe(0x7f80); // max float32 rounds to Inf
    const nan = f32ToBf16Bits(Number.NaN);
    expect(Number.isNaN(bf16BitsToF32(nan))).toBe(true);
  });

  it("rounds random float32 values to the nearest bf16, ties to even", () => {
    fc.assert(
      fc.property(fc.float({ noNaN: true, noDefaultInfinity: true }), (x) => {
        expectNearest(x, f32ToBf16Bits(x), refBf16, 3.3895313892515355e38 + 2 ** 119);
      }),
      { numRuns: 3000 },
    );
  });
});

describe("8-bit and 4-bit floats", () => {
  it("F8_E4M3 (fn): max 448, one NaN pattern per sign, subnormals 2^-9 steps", () => {
    const t = float8Table("F8_E4M3");
    expect(t[0x7e]).toBe(448);
    expect(t[0xfe]).toBe(-448);
    expect(Number.isNaN(t[0x7f] as number)).toBe(true);
    expect(Number.isNaN(t[0xff] as number)).toBe(true);
    expect(t[0x01]).toBe(2 ** -9);
    expect(t[0x38]).toBe(1); // exp 7 = bias
    expect([...t].filter(Number.isNaN)).toHaveLength(2);
  });

  it("F8_E5M2 is the top byte of binary16", () => {
    const t = float8Table("F8_E5M2");
    for (let b = 0; b < 256; b++) {
      const want = refF16(b << 8);
      if (Number.isNaN(want)) expect(Number.isNaN(t[b] as number)).toBe(true);
      else expect(t[b]).toBe(want);
    }
  });

  it("FNUZ variants: 0x80 is the only NaN, no infinities, bias 8 / 16", () => {
    const a = float8Table("F8_E4M3FNUZ");
    const b = float8Table("F8_E5M2FNUZ");
    for (const t of [a, b]) {
      expect(Number.isNaN(t[0x80] as number)).toBe(true);
      expect([...t].filter(Number.isNaN)).toHaveLength(1);
      expect([...t].every((v) => Number.isNaN(v) || Number.isFinite(v))).toBe(true);
    }
    expect(a[0x7f]).toBe(240);
    expect(a[0x40]).toBe(1);
    expect(b[0x7f]).toBe(57344);
    expect(b[0x40]).toBe(1);
  });

  it("F8_E8M0 is a power of two with bias 127; 0xFF is NaN", () => {
    const t = float8Table("F8_E8M0");
    expect(t[127]).toBe(1);
    expect(t[130]).toBe(8);
    expect(t[0]).toBe(2 ** -127);
    expect(Number.isNaN(t[255] as number)).toBe(true);
  });

  it("F4 (E2M1) holds 0, 0.5, 1, 1.5, 2, 3, 4, 6 and their negatives", () => {
    expect(Array.from(f4Table())).toEqual([0, 0.5, 1, 1.5, 2, 3, 4, 6, -0, -0.5, -1, -1.5, -2, -3, -4, -6]);
  });
});
