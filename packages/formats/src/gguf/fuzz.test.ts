// Property-based tests of the GGUF reader: any bytes give a parsed file or a FormatError, never
// another exception, a hang, or an allocation larger than the input (counts are checked against
// the bytes left before anything is allocated).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isFormatError } from "../errors.js";
import { type GgufFile, openGguf, parseGguf } from "./GgufFile.js";
import { serializeGguf } from "./serializeGguf.js";
import type { GgufArray, GgufArrayItem, GgufValue, GgufValueType } from "./types.js";

function outcome(bytes: Uint8Array): string {
  try {
    const f = parseGguf(bytes);
    for (const t of f.tensors) expect(f.header.dataOffset + t.offset + t.byteLength).toBeLessThanOrEqual(bytes.length);
    return "ok";
  } catch (e) {
    if (!isFormatError(e)) throw new Error(`reader threw a non-FormatError: ${String(e)}`, { cause: e });
    return e.code;
  }
}

// Arbitrary metadata values of every type, arrays nested up to two deep.
const scalarOf: Record<Exclude<GgufValueType, "array">, fc.Arbitrary<GgufArrayItem>> = {
  u8: fc.integer({ min: 0, max: 255 }),
  i8: fc.integer({ min: -128, max: 127 }),
  u16: fc.integer({ min: 0, max: 65535 }),
  i16: fc.integer({ min: -32768, max: 32767 }),
  u32: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
  i32: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  f32: fc.float({ noNaN: true }).map(Math.fround),
  f64: fc.double({ noNaN: true }),
  u64: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
  i64: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  bool: fc.boolean(),
  string: fc.string({ unit: "grapheme", maxLength: 12 }),
};
const scalarTypes = Object.keys(scalarOf) as Array<Exclude<GgufValueType, "array">>;
const flatArray: fc.Arbitrary<GgufArray> = fc
  .constantFrom(...scalarTypes)
  .chain((t) =>
    fc.array(scalarOf[t], { maxLength: 6 }).map((value) => ({ type: "array" as const, itemType: t, value })),
  );
const nested: fc.Arbitrary<GgufArray> = fc
  .array(flatArray, { maxLength: 3 })
  .map((value) => ({ type: "array", itemType: "array", value }));
const value: fc.Arbitrary<GgufValue> = fc.oneof(
  fc.constantFrom(...scalarTypes).chain((t) => scalarOf[t].map((v) => ({ type: t, value: v }) as GgufValue)),
  flatArray,
  nested,
);
const key = fc
  .stringMatching(/^[a-z][a-z0-9_]{0,8}(\.[a-z][a-z0-9_]{0,8}){0,2}$/)
  .filter((k) => k !== "general.alignment");
const tensor = fc.record({
  name: fc.stringMatching(/^[a-z][a-z0-9_.]{0,20}$/),
  type: fc.constantFrom("F32", "F16", "Q8_0", "I8"),
  rows: fc.integer({ min: 1, max: 3 }),
  blocks: fc.integer({ min: 1, max: 2 }),
});
const file = fc
  .record({
    metadata: fc.uniqueArray(fc.tuple(key, value), { selector: ([k]) => k, maxLength: 6 }),
    tensors: fc.uniqueArray(tensor, { selector: (t) => t.name, maxLength: 3 }),
    alignment: fc.constantFrom(undefined, 8, 32, 64),
  })
  .map(({ metadata, tensors, alignment }) => {
    const meta = new Map<string, GgufValue>(metadata);
    if (alignment) meta.set("general.alignment", { type: "u32", value: alignment });
    return {
      metadata: meta,
      tensors: tensors.map((t) => {
        const ne0 = t.type === "Q8_0" ? 32 * t.blocks : t.blocks;
        const bytes =
          t.type === "Q8_0" ? 34 * t.blocks * t.rows : ne0 * t.rows * (t.type === "F32" ? 4 : t.type === "F16" ? 2 : 1);
        return { name: t.name, type: t.type, dims: [ne0, t.rows], data: new Uint8Array(bytes).map((_, i) => i * 7) };
      }),
    };
  });

/** f32 values come back rounded; everything else exactly. */
function normalize(v: GgufValue | GgufArrayItem): unknown {
  if (typeof v === "object" && v !== null) {
    if (v.type === "array") return { itemType: v.itemType, value: v.value.map(normalize) };
    return { type: v.type, value: v.type === "f32" ? Math.fround(v.value as number) : v.value };
  }
  return v;
}

describe("GGUF reader properties", () => {
  it("writes and reads back any metadata and tensors, and rewrites the same bytes", () => {
    fc.assert(
      fc.property(file, (input) => {
        const bytes = serializeGguf(input);
        const f: GgufFile = parseGguf(bytes);
        expect([...f.metadata.keys()]).toEqual([...input.metadata.keys()]);
        for (const [k, v] of input.metadata) expect(normalize(f.metadata.get(k) as GgufValue)).toEqual(normalize(v));
        expect(f.tensors.map((t) => [t.name, t.type.name, t.dims])).toEqual(
          input.tensors.map((t) => [t.name, t.type, t.dims]),
        );
        for (const t of input.tensors) expect(f.getTensor(t.name).data).toEqual(t.data);
        const again = serializeGguf({
          metadata: f.metadata,
          tensors: f.tensors.map((t) => ({
            name: t.name,
            type: t.type.name,
            dims: t.dims,
            data: f.getTensor(t.name).data,
          })),
        });
        expect(again).toEqual(bytes);
      }),
      { numRuns: 150 },
    );
  });

  it("random bytes (with and without a valid GGUF start) give a file or a FormatError", () => {
    const start = new Uint8Array([0x47, 0x47, 0x55, 0x46, 3, 0, 0, 0]);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.boolean(), (tail, withMagic) => {
        const bytes = withMagic ? new Uint8Array([...start, ...tail]) : tail;
        outcome(bytes);
      }),
      { numRuns: 1000 },
    );
  });

  it("mutated valid files (byte flips, u64 overwrites with huge values, truncation) give a file or a FormatError", () => {
    const huge = fc.constantFrom(2n ** 60n, 2n ** 40n, 2n ** 64n - 1n, 2n ** 32n, 2n ** 53n);
    fc.assert(
      fc.property(
        file,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
        fc.option(fc.tuple(fc.nat(), huge)),
        fc.option(fc.nat()),
        (input, flips, u64, cut) => {
          let bytes = serializeGguf(input);
          for (const [at, b] of flips) bytes[at % bytes.length] = b;
          if (u64) {
            const at = u64[0] % Math.max(1, bytes.length - 8);
            new DataView(bytes.buffer).setBigUint64(at, u64[1], true);
          }
          if (cut !== null) bytes = bytes.subarray(0, cut % (bytes.length + 1));
          outcome(bytes);
        },
      ),
      { numRuns: 400 },
    );
  });

  it("the lazy reader agrees with the in-memory one and never reads past the source", async () => {
    await fc.assert(
      fc.asyncProperty(file, fc.option(fc.nat()), async (input, cut) => {
        let bytes = serializeGguf(input);
        if (cut !== null) bytes = bytes.subarray(0, cut % (bytes.length + 1));
        const source = {
          size: bytes.length,
          read: async (offset: number, length: number) => {
            expect(offset + length).toBeLessThanOrEqual(bytes.length);
            return bytes.slice(offset, offset + length);
          },
        };
        let lazy: string;
        try {
          await openGguf(source);
          lazy = "ok";
        } catch (e) {
          if (!isFormatError(e)) throw e;
          lazy = e.code;
        }
        expect(lazy).toBe(outcome(bytes));
      }),
      { numRuns: 150 },
    );
  });

  it("rejects absurd counts at every count position of a real header, quickly and without allocating", () => {
    const bytes = serializeGguf({
      metadata: new Map<string, GgufValue>([
        ["a.s", { type: "string", value: "x" }],
        ["a.arr", { type: "array", itemType: "u8", value: [1, 2] }],
      ]),
      tensors: [{ name: "t", type: "F32", dims: [2], data: new Uint8Array(8) }],
    });
    // header: magic 0, version 4, tensor count 8, kv count 16, key "a.s" length 24, its value length 39,
    // key "a.arr" length 48, array length 69
    const dv = new DataView(bytes.buffer);
    expect([8, 16, 24, 39, 48, 69].map((at) => dv.getBigUint64(at, true))).toEqual([1n, 2n, 3n, 1n, 5n, 2n]);
    for (const at of [8, 16, 24, 39, 48, 69]) {
      for (const n of [2n ** 60n, 2n ** 40n, 2n ** 64n - 1n]) {
        const b = bytes.slice();
        new DataView(b.buffer).setBigUint64(at, n, true);
        const code = outcome(b);
        expect(code, `offset ${at} = ${n}`).not.toBe("ok");
        expect(["Truncated", "InvalidGguf"]).toContain(code);
      }
    }
  });
});
