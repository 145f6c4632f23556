// Property-based tests: whatever bytes come in, every reader returns a parsed file or throws a
// FormatError; nothing else escapes, nothing hangs, and nothing allocates past the input's size.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DTYPES, dtypeBits } from "../dtype.js";
import { isFormatError } from "../errors.js";
import { openSafetensorsBlob } from "./LazySafetensors.js";
import { openSafetensors } from "./node.js";
import { parseSafetensors } from "./parseSafetensors.js";
import { parseSafetensorsHeader } from "./parseSafetensorsHeader.js";
import type { SafetensorsFile } from "./SafetensorsFile.js";
import { serializeSafetensors, type TensorInput } from "./serializeSafetensors.js";
import { rawSafetensors } from "./testing.js";
import { toFloat32 } from "./toFloat32.js";

type Outcome = { ok: true; names: string[] } | { ok: false; code: string };

/** Runs a reader; fails the property on any exception that is not a FormatError. */
function outcome(fn: () => SafetensorsFile): Outcome {
  try {
    const f = fn();
    checkParsed(f, f.data.length);
    return { ok: true, names: f.names() };
  } catch (e) {
    if (!isFormatError(e)) throw new Error(`reader threw a non-FormatError: ${String(e)}`, { cause: e });
    return { ok: false, code: e.code };
  }
}

async function outcomeAsync(fn: () => Promise<{ names(): string[]; close(): Promise<void> }>): Promise<Outcome> {
  try {
    const f = await fn();
    const names = f.names();
    await f.close();
    return { ok: true, names };
  } catch (e) {
    if (!isFormatError(e)) throw new Error(`reader threw a non-FormatError: ${String(e)}`, { cause: e });
    return { ok: false, code: e.code };
  }
}

/** A parsed file's tensors stay inside its data and decode to at most 2 elements per byte. */
function checkParsed(f: SafetensorsFile, dataLength: number): void {
  let total = 0;
  for (const name of f.names()) {
    const t = f.getTensor(name);
    total += t.data.length;
    expect(t.data.length).toBeLessThanOrEqual(dataLength);
    try {
      expect(toFloat32(t).length).toBeLessThanOrEqual(2 * t.data.length);
    } catch (e) {
      if (!isFormatError(e) || e.code !== "UnsupportedDtype") throw e;
    }
  }
  expect(total).toBe(dataLength);
}

const tensorArb: fc.Arbitrary<TensorInput> = fc
  .record({ dtype: fc.constantFrom(...DTYPES), shape: fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 3 }) })
  .filter(({ dtype, shape }) => (shape.reduce((a, b) => a * b, 1) * dtypeBits(dtype)) % 8 === 0)
  .chain(({ dtype, shape }) => {
    const n = (shape.reduce((a, b) => a * b, 1) * dtypeBits(dtype)) / 8;
    return fc.uint8Array({ minLength: n, maxLength: n }).map((data) => ({ dtype, shape, data }));
  });

const validFileArb = fc
  .tuple(
    fc.dictionary(
      fc.string({ maxLength: 5 }).filter((k) => k !== "__metadata__"),
      tensorArb,
      { maxKeys: 4 },
    ),
    fc.option(fc.dictionary(fc.string({ maxLength: 4 }), fc.string({ maxLength: 4 }), { maxKeys: 2 })),
  )
  .map(([t, m]) => serializeSafetensors(t, m));

type Mutation = (b: Uint8Array) => Uint8Array;
const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })).map(
    ([i, x]): Mutation =>
      (b) => {
        const c = b.slice();
        if (c.length) c[i % c.length] = (c[i % c.length] as number) ^ x;
        return c;
      },
  ),
  fc.nat().map(
    (i): Mutation =>
      (b) =>
        b.slice(0, i % (b.length + 1)),
  ),
  fc.tuple(fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 8 })).map(
    ([i, ins]): Mutation =>
      (b) => {
        const at = i % (b.length + 1);
        return Uint8Array.from([...b.subarray(0, at), ...ins, ...b.subarray(at)]);
      },
  ),
  fc.tuple(fc.nat(), fc.integer({ min: 1, max: 8 })).map(
    ([i, n]): Mutation =>
      (b) => {
        const at = i % (b.length + 1);
        return Uint8Array.from([...b.subarray(0, at), ...b.subarray(at + n)]);
      },
  ),
  fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }).map(
    (n): Mutation =>
      (b) => {
        const c = b.slice();
        if (c.length >= 8) new DataView(c.buffer).setBigUint64(0, n, true);
        return c;
      },
  ),
);

const mutatedArb = fc
  .tuple(validFileArb, fc.array(mutationArb, { minLength: 1, maxLength: 3 }))
  .map(([b, ms]) => ms.reduce((x, m) => m(x), b));

/** Headers built from random entries: exercises the semantic checks more than random bytes do. */
const numberLit = fc.oneof(
  fc.nat({ max: 40 }).map(String),
  fc.bigInt({ min: 0n, max: 1n << 66n }).map(String),
  fc.constantFrom(
    "-1",
    "1.5",
    "1e3",
    "18446744073709551615",
    "18446744073709551616",
    "9007199254740993",
    '"3"',
    "null",
  ),
);
const entryArb = fc.record({
  dtype: fc.oneof(
    fc.constantFrom(...DTYPES).map((d) => `"${d}"`),
    fc.constantFrom('"F33"', "1", "null"),
  ),
  shape: fc.array(numberLit, { maxLength: 3 }).map((a) => `[${a.join(",")}]`),
  offsets: fc.array(numberLit, { minLength: 1, maxLength: 3 }).map((a) => `[${a.join(",")}]`),
});
const headerFileArb = fc
  .tuple(
    fc.array(fc.tuple(fc.constantFrom("a", "b", "c", "__metadata__"), entryArb), { maxLength: 4 }),
    fc.nat({ max: 64 }),
  )
  .map(([entries, dataLen]) => {
    const body = entries.map(([k, e]) => `"${k}":{"dtype":${e.dtype},"shape":${e.shape},"data_offsets":${e.offsets}}`);
    return rawSafetensors(`{${body.join(",")}}`, dataLen);
  });

const anyInput = fc.oneof(
  fc.uint8Array({ maxLength: 200 }),
  fc.uint8Array({ maxLength: 200 }).map((b) => rawSafetensors(new TextDecoder().decode(b))),
  validFileArb,
  mutatedArb,
  headerFileArb,
);

describe("readers under random and mutated input", () => {
  it("parseSafetensors: a parsed file or a FormatError; the Blob reader agrees exactly", async () => {
    await fc.assert(
      fc.asyncProperty(anyInput, async (bytes) => {
        const sync = outcome(() => parseSafetensors(bytes));
        const lazy = await outcomeAsync(() => openSafetensorsBlob(new Blob([Uint8Array.from(bytes)])));
        expect(lazy).toEqual(sync);
      }),
      { numRuns: 600 },
    );
  });

  it("parseSafetensorsHeader on arbitrary header bytes: a header or a FormatError", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 100 }),
          fc.string().map((s) => new TextEncoder().encode(s)),
        ),
        (b) => {
          try {
            const h = parseSafetensorsHeader(b);
            // A header that parses lays its tensors end to end from byte 0 up to dataByteLength.
            let end = 0;
            for (const t of h.tensors.values()) {
              expect(t.dataOffsets[0]).toBe(end);
              end = t.dataOffsets[1];
            }
            expect(h.dataByteLength).toBe(end);
          } catch (e) {
            if (!isFormatError(e)) throw e;
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it("valid files always parse, and mutated ones never make a tensor reach outside the data", () => {
    fc.assert(
      fc.property(validFileArb, (bytes) => {
        expect(outcome(() => parseSafetensors(bytes)).ok).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it("a header claiming an enormous tensor is refused from the header alone", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n << 40n, max: (1n << 64n) - 1n }), fc.constantFrom(...DTYPES), (n, dtype) => {
        const bytes = rawSafetensors(`{"t":{"dtype":"${dtype}","shape":[${n}],"data_offsets":[0,${n}]}}`, 8);
        const r = outcome(() => parseSafetensors(bytes));
        expect(r.ok).toBe(false);
      }),
      { numRuns: 200 },
    );
  });

  describe("file-handle reader", () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), "lowrank-fuzz-"));
    });
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it("agrees with parseSafetensors on random and mutated files", async () => {
      let i = 0;
      await fc.assert(
        fc.asyncProperty(anyInput, async (bytes) => {
          const path = join(dir, `f${i++}.safetensors`);
          await writeFile(path, bytes);
          const fromFile = await outcomeAsync(() => openSafetensors(path));
          expect(fromFile).toEqual(outcome(() => parseSafetensors(bytes)));
        }),
        { numRuns: 60 },
      );
    });
  });
});
