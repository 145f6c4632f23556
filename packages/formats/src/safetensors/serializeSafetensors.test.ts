import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DTYPES, type Dtype, dtypeBits } from "../dtype.js";
import { parseSafetensors } from "./parseSafetensors.js";
import { compareCodePoints, serializeSafetensors, type TensorInput } from "./serializeSafetensors.js";

/** Random tensors of whole-byte dtypes with random contents. */
const tensorArb: fc.Arbitrary<TensorInput> = fc
  .record({
    dtype: fc.constantFrom(...DTYPES.filter((d) => dtypeBits(d) % 8 === 0)),
    shape: fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }),
  })
  .chain(({ dtype, shape }) => {
    const n = (shape.reduce((a, b) => a * b, 1) * dtypeBits(dtype)) / 8;
    return fc.uint8Array({ minLength: n, maxLength: n }).map((data) => ({ dtype, shape, data }));
  });

const tensorsArb = fc.dictionary(
  fc.string({ unit: "grapheme", maxLength: 6 }).filter((k) => k !== "__metadata__"),
  tensorArb,
  {
    maxKeys: 6,
  },
);

describe("serializeSafetensors", () => {
  it("round-trips random tensors and metadata through the reader, every tensor aligned", () => {
    fc.assert(
      fc.property(
        tensorsArb,
        fc.option(fc.dictionary(fc.string(), fc.string(), { maxKeys: 3 })),
        (tensors, metadata) => {
          const bytes = serializeSafetensors(tensors, metadata);
          const f = parseSafetensors(bytes);
          expect(f.headerByteLength % 8).toBe(0);
          expect(f.metadata).toEqual(metadata);
          expect(f.names().sort()).toEqual(Object.keys(tensors).sort());
          for (const [name, t] of Object.entries(tensors)) {
            const got = f.getTensor(name);
            expect(got.dtype).toBe(t.dtype);
            expect(got.shape).toEqual(t.shape);
            expect(got.data).toEqual(t.data);
            expect(got.data.byteOffset % (dtypeBits(t.dtype) / 8)).toBe(0);
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it("is deterministic: insertion order and Map vs object do not change the bytes", () => {
    fc.assert(
      fc.property(tensorsArb, (tensors) => {
        const reversed = Object.fromEntries(Object.entries(tensors).reverse());
        const a = serializeSafetensors(tensors, { b: "2", a: "1" });
        expect(serializeSafetensors(reversed, { a: "1", b: "2" })).toEqual(a);
        expect(serializeSafetensors(new Map(Object.entries(reversed)), { a: "1", b: "2" })).toEqual(a);
      }),
      { numRuns: 50 },
    );
  });

  it("orders by dtype (reference order, widest first) then by name, as the reference writer", () => {
    const t = (dtype: Dtype, n = 1): TensorInput => ({
      dtype,
      shape: [n],
      data: new Uint8Array((n * dtypeBits(dtype)) / 8),
    });
    const f = parseSafetensors(
      serializeSafetensors({
        z: t("U8"),
        b: t("F32"),
        a: t("F32"),
        h: t("F16"),
        bf: t("BF16"),
        l: t("I64"),
        f4: t("F4", 2),
        bool: t("BOOL"),
      }),
    );
    expect(f.names()).toEqual(["l", "a", "b", "bf", "h", "z", "f4", "bool"]);
  });

  it("sorts names by UTF-8 bytes, not UTF-16 units", () => {
    const names = ["\uFF61", "\u{1F600}", "a", "Z", "é"];
    expect([...names].sort(compareCodePoints)).toEqual(["Z", "a", "é", "\uFF61", "\u{1F600}"]);
    const enc = new TextEncoder();
    const byBytes = [...names].sort((x, y) => Buffer.compare(enc.encode(x), enc.encode(y)));
    expect([...names].sort(compareCodePoints)).toEqual(byBytes);
  });

  it("refuses inconsistent input with typed errors", () => {
    const bad: Array<[string, () => unknown]> = [
      ["TensorInvalidInfo", () => serializeSafetensors({ a: { dtype: "F32", shape: [2], data: new Uint8Array(4) } })],
      ["TensorInvalidInfo", () => serializeSafetensors({ a: { dtype: "F32", shape: [-1], data: new Uint8Array(0) } })],
      ["TensorInvalidInfo", () => serializeSafetensors({ a: { dtype: "F32", shape: [0.5], data: new Uint8Array(0) } })],
      [
        "TensorInvalidInfo",
        () => serializeSafetensors({ __metadata__: { dtype: "U8", shape: [0], data: new Uint8Array(0) } }),
      ],
      [
        "TensorInvalidInfo",
        () => serializeSafetensors({ "\uD800": { dtype: "U8", shape: [0], data: new Uint8Array(0) } }),
      ],
      [
        "UnknownDtype",
        () => serializeSafetensors({ a: { dtype: "F12" as Dtype, shape: [0], data: new Uint8Array(0) } }),
      ],
      ["MisalignedSlice", () => serializeSafetensors({ a: { dtype: "F4", shape: [3], data: new Uint8Array(2) } })],
      ["InvalidMetadata", () => serializeSafetensors({}, { a: 1 as unknown as string })],
    ];
    for (const [code, fn] of bad) expect(fn, code).toThrow(expect.objectContaining({ name: "FormatError", code }));
  });

  it("accepts any typed array as data and writes its bytes", () => {
    const f = parseSafetensors(
      serializeSafetensors({ w: { dtype: "F32", shape: [2], data: new Float32Array([1.5, -2]).subarray(0, 2) } }),
    );
    expect(Array.from(new Float32Array(f.getTensor("w").data.slice().buffer))).toEqual([1.5, -2]);
  });

  it("escapes names exactly like serde_json", () => {
    const bytes = serializeSafetensors({ 'q"\\\n\u0001é': { dtype: "U8", shape: [0], data: new Uint8Array(0) } });
    const header = new TextDecoder().decode(
      bytes.subarray(8, 8 + Number(new DataView(bytes.buffer).getBigUint64(0, true))),
    );
    expect(header.trimEnd()).toBe('{"q\\"\\\\\\n\\u0001é":{"dtype":"U8","shape":[0],"data_offsets":[0,0]}}');
  });
});
