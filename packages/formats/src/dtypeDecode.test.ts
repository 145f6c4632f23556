import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DTYPES, dtypeBits, tensorByteLength } from "./dtype.js";
import { decodeToFloat32, encodeFromFloat32 } from "./dtypeDecode.js";
import { typedArrayView } from "./dtypeView.js";
import { isFormatError } from "./errors.js";

/** Little-endian bytes of `values` written with DataView (independent of typed-array views). */
function le(kind: string, values: number[]): Uint8Array {
  const sizes: Record<string, number> = { I8: 1, U8: 1, I16: 2, U16: 2, I32: 4, U32: 4, F64: 8, I64: 8, U64: 8 };
  const size = sizes[kind] as number;
  const out = new Uint8Array(values.length * size);
  const dv = new DataView(out.buffer);
  values.forEach((v, i) => {
    const at = i * size;
    if (kind === "I8") dv.setInt8(at, v);
    if (kind === "U8") dv.setUint8(at, v);
    if (kind === "I16") dv.setInt16(at, v, true);
    if (kind === "U16") dv.setUint16(at, v, true);
    if (kind === "I32") dv.setInt32(at, v, true);
    if (kind === "U32") dv.setUint32(at, v, true);
    if (kind === "F64") dv.setFloat64(at, v, true);
    if (kind === "I64") dv.setBigInt64(at, BigInt(v), true);
    if (kind === "U64") dv.setBigUint64(at, BigInt(v), true);
  });
  return out;
}

/** Places `bytes` at an odd offset inside a larger buffer, so typed views cannot alias it. */
function misaligned(bytes: Uint8Array): Uint8Array {
  const host = new Uint8Array(bytes.length + 1);
  host.set(bytes, 1);
  return host.subarray(1);
}

describe("decodeToFloat32", () => {
  const ranges: Record<string, [number, number]> = {
    I8: [-128, 127],
    U8: [0, 255],
    I16: [-32768, 32767],
    U16: [0, 65535],
    I32: [-(2 ** 24), 2 ** 24],
    U32: [0, 2 ** 24],
    I64: [-(2 ** 24), 2 ** 24],
    U64: [0, 2 ** 24],
  };
  for (const [kind, [lo, hi]] of Object.entries(ranges)) {
    it(`${kind}: matches the values written, aligned and misaligned`, () => {
      fc.assert(
        fc.property(fc.array(fc.integer({ min: lo, max: hi }), { maxLength: 40 }), (values) => {
          const bytes = le(kind, values);
          expect(Array.from(decodeToFloat32(kind as "I8", bytes))).toEqual(values);
          expect(Array.from(decodeToFloat32(kind as "I8", misaligned(bytes)))).toEqual(values);
        }),
        { numRuns: 50 },
      );
    });
  }

  it("F64 rounds to the nearest float32", () => {
    const values = [0.1, -1e-40, 1e39, 3.5, Math.PI];
    expect(Array.from(decodeToFloat32("F64", misaligned(le("F64", values))))).toEqual(values.map(Math.fround));
  });

  it("F32 aligned is a zero-copy view unless copy is asked; misaligned is copied", () => {
    const bytes = new Uint8Array(new Float32Array([1, 2, 3]).buffer);
    const view = decodeToFloat32("F32", bytes);
    expect(view.buffer).toBe(bytes.buffer);
    const copy = decodeToFloat32("F32", bytes, { copy: true });
    expect(copy.buffer).not.toBe(bytes.buffer);
    expect(Array.from(copy)).toEqual([1, 2, 3]);
    const odd = decodeToFloat32("F32", misaligned(bytes));
    expect(Array.from(odd)).toEqual([1, 2, 3]);
  });

  it("F16 and BF16 round-trip through encodeFromFloat32 for representable values", () => {
    const values = [0, -0, 1, -2.5, 65504, 1023 * 2 ** -24, 1025];
    expect(Array.from(decodeToFloat32("F16", misaligned(encodeFromFloat32("F16", values))))).toEqual(values);
    const bvalues = [0, 1, -2.5, 3.3895313892515355e38, 1.5 * 2 ** -130];
    expect(Array.from(decodeToFloat32("BF16", misaligned(encodeFromFloat32("BF16", bvalues))))).toEqual(bvalues);
  });

  it("BF16 decodes each element to its float32 top half, at any offset and length", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 33 }),
        fc.constantFrom(0, 2, 4, 6),
        (bits, pad) => {
          const host = new Uint8Array(pad + bits.length * 2);
          const dv = new DataView(host.buffer);
          for (const [i, b] of bits.entries()) dv.setUint16(pad + 2 * i, b, true);
          const got = decodeToFloat32("BF16", host.subarray(pad));
          const want = bits.map((b) => new Float32Array(new Uint32Array([b * 65536]).buffer)[0]);
          expect(Array.from(got)).toEqual(want);
        },
      ),
      { numRuns: 100 },
    );
  });

  it("F16 bytes are little-endian: 0x3c00 is 1", () => {
    expect(Array.from(decodeToFloat32("F16", new Uint8Array([0x00, 0x3c, 0x00, 0xc0])))).toEqual([1, -2]);
    expect(Array.from(decodeToFloat32("BF16", new Uint8Array([0x80, 0x3f, 0x00, 0xc0])))).toEqual([1, -2]);
  });

  it("F4 is two elements per byte, low nibble first; BOOL is 0/1", () => {
    expect(Array.from(decodeToFloat32("F4", new Uint8Array([0x72, 0x0f])))).toEqual([1, 6, -6, 0]);
    expect(Array.from(decodeToFloat32("BOOL", new Uint8Array([0, 1, 7])))).toEqual([0, 1, 1]);
  });

  it("refuses F6 and C64 with UnsupportedDtype", () => {
    for (const d of ["F6_E2M3", "F6_E3M2", "C64"] as const) {
      let code = "";
      try {
        decodeToFloat32(d, new Uint8Array(24));
      } catch (e) {
        code = isFormatError(e) ? e.code : "other";
      }
      expect(code).toBe("UnsupportedDtype");
    }
  });

  it("encodeFromFloat32 F32/F64 write little-endian IEEE values", () => {
    const f = encodeFromFloat32("F32", [1, -2]);
    expect(Array.from(f)).toEqual([0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0]);
    expect(Array.from(decodeToFloat32("F64", encodeFromFloat32("F64", [0.5, 7])))).toEqual([0.5, 7]);
  });
});

describe("dtype sizes", () => {
  it("every dtype has the reference bit width", () => {
    const want: Record<string, number> = { F4: 4, F6_E2M3: 6, F6_E3M2: 6, BOOL: 8, C64: 64 };
    for (const d of DTYPES) {
      const fromName = want[d] ?? (/(\d+)/.exec(d.replace(/_E\d+M\d+(FNUZ)?$/, "")) ? Number(/(\d+)/.exec(d)?.[1]) : 0);
      expect(dtypeBits(d), d).toBe(fromName);
    }
  });

  it("tensorByteLength: sub-byte types need whole bytes, overflow is caught", () => {
    expect(tensorByteLength("F4", [1, 2], "t")).toBe(1n);
    expect(tensorByteLength("F6_E2M3", [4], "t")).toBe(3n);
    expect(() => tensorByteLength("F4", [3], "t")).toThrow(expect.objectContaining({ code: "MisalignedSlice" }));
    expect(() => tensorByteLength("F6_E3M2", [2], "t")).toThrow(expect.objectContaining({ code: "MisalignedSlice" }));
    expect(() => tensorByteLength("U8", [2 ** 32, 2 ** 32], "t")).toThrow(
      expect.objectContaining({ code: "ValidationOverflow" }),
    );
    expect(() => tensorByteLength("U16", [2 ** 32, 2 ** 30], "t")).toThrow(
      expect.objectContaining({ code: "ValidationOverflow" }),
    );
    // the reference counts bits: 2^59 elements x 16 bits = 2^63 bits still fits
    expect(tensorByteLength("U16", [2 ** 32, 2 ** 27], "t")).toBe(2n ** 60n);
  });

  it("typedArrayView picks the element type and aliases aligned bytes", () => {
    const bytes = le("I32", [1, -1]);
    const v = typedArrayView("I32", bytes);
    expect(v).toBeInstanceOf(Int32Array);
    expect(v.buffer).toBe(bytes.buffer);
    expect(typedArrayView("I64", le("I64", [5]))).toEqual(new BigInt64Array([5n]));
    expect(typedArrayView("F8_E4M3", bytes)).toBe(bytes);
  });
});
