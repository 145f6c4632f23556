import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { encodeFromFloat32 } from "./dtypeDecode.js";
import { encodeRounded } from "./dtypeRound.js";

const bits16 = (b: Uint8Array) => [...new Uint16Array(b.slice().buffer)];

describe("encodeRounded: one rounding from double precision", () => {
  it("matches numpy's float64 -> float16 cast (values and bits from numpy 2.4)", () => {
    const cases: Array<[number, number]> = [
      [1 + 2 ** -11 + 2 ** -30, 0x3c01], // through float32 first: 0x3c00
      [-(1 + 2 ** -11 + 2 ** -30), 0xbc01],
      [1 + 2 ** -11, 0x3c00], // a tie: to even
      [1 + 3 * 2 ** -11, 0x3c02],
      [65519.99, 0x7bff],
      [65520, 0x7c00], // rounds past the largest finite value: Inf
      [2 ** -25, 0x0000], // half the smallest subnormal: a tie, to even (zero)
      [2 ** -25 + 2 ** -40, 0x0001],
      [3 * 2 ** -26, 0x0001],
      [0.1, 0x2e66],
      [1 / 3, 0x3555],
      [2 ** -24 * 1.5, 0x0002],
    ];
    expect(
      bits16(
        encodeRounded(
          "F16",
          cases.map(([x]) => x),
        ),
      ),
    ).toEqual(cases.map(([, b]) => b));
  });

  it("agrees with encodeFromFloat32 on every float32 input (one rounding either way)", () => {
    fc.assert(
      fc.property(fc.float({ noNaN: true }), (x) => {
        for (const dtype of ["F16", "BF16", "F32"] as const)
          expect(encodeRounded(dtype, [x])).toEqual(encodeFromFloat32(dtype, [x]));
      }),
      { numRuns: 3000 },
    );
  });
});
