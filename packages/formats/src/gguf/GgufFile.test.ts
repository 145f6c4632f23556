import { readFileSync } from "node:fs";
import { fixturePath } from "@lowrank/vitest-config/fixtures";
import { describe, expect, it } from "vitest";
import { isFormatError } from "../errors.js";
import { openGguf, parseGguf, safeParseGguf } from "./GgufFile.js";
import { serializeGguf } from "./serializeGguf.js";
import type { GgufValue } from "./types.js";

// llama-2-tiny-random.gguf (ollama test data, MIT; see fixtures/gguf-llama2-tiny-random/SOURCE.md)
// and its DUMP.txt, written by the Python `gguf` reader: the independent reference here.
const dir = fixturePath("gguf-llama2-tiny-random");
const bytes = new Uint8Array(readFileSync(`${dir}/llama-2-tiny-random.gguf`));
const dump = readFileSync(`${dir}/llama-2-tiny-random.DUMP.txt`, "utf8").split("\n");

function memorySource(b: Uint8Array) {
  const reads: Array<[number, number]> = [];
  return {
    reads,
    source: {
      size: b.length,
      read: async (offset: number, length: number) => {
        reads.push([offset, length]);
        return b.slice(offset, offset + length);
      },
    },
  };
}

describe("GGUF reader on llama-2-tiny-random.gguf", () => {
  const file = parseGguf(bytes);

  it("matches the header line of the dump", () => {
    const m = /version=(\d+) tensors=(\d+) kv=(\d+)/.exec(dump[0] as string);
    expect(m).not.toBeNull();
    expect(file.header.version).toBe(Number(m?.[1]));
    expect(file.tensors.length).toBe(Number(m?.[2]));
    expect(file.metadata.size).toBe(Number(m?.[3]));
  });

  it("matches every scalar and array entry of the dump", () => {
    let checked = 0;
    for (const line of dump) {
      const scalar = /^ {2}([\w.]+): \((\w+)\) (.+)$/.exec(line);
      if (scalar) {
        const [, key, type, text] = scalar as unknown as [string, string, string, string];
        const v = file.metadata.get(key) as GgufValue;
        expect(v.type).toBe(type === "str" ? "string" : type);
        if (type === "str") expect(v.value).toBe(text.slice(1, -1));
        else if (type === "f32") expect(v.value).toBeCloseTo(Number(text), 15);
        else expect(v.value).toBe(Number(text));
        checked++;
      }
      const arr = /^ {2}([\w.]+): arr\[(\w+)\] len=(\d+) first=\[(.*)\]$/.exec(line);
      if (arr) {
        const [, key, type, len, first] = arr as unknown as [string, string, string, string, string];
        const v = file.metadata.get(key) as GgufValue;
        expect(v.type).toBe("array");
        if (v.type !== "array") continue;
        expect(v.itemType).toBe(type === "str" ? "string" : type);
        expect(v.value.length).toBe(Number(len));
        const expected = first.split(", ").map((s) => (s.startsWith("'") ? s.slice(1, -1) : Number(s)));
        expect(v.value.slice(0, expected.length)).toEqual(expected);
        checked++;
      }
    }
    expect(checked).toBe(18);
  });

  it("matches data_start, alignment and every tensor's type, dims and offset", () => {
    const m = /data_start=(\d+) align=(\d+)/.exec(dump.find((l) => l.includes("data_start")) ?? "");
    expect(file.header.dataOffset).toBe(Number(m?.[1]));
    expect(file.header.alignment).toBe(Number(m?.[2]));
    const lines = dump.filter((l) => l.startsWith("  T "));
    expect(lines).toHaveLength(12);
    lines.forEach((line, i) => {
      const [, name, type, dims, off] = /^ {2}T (\S+) (\w+) \[([\d, ]+)\] off=(\d+)$/.exec(line) as unknown as string[];
      const t = file.tensors[i];
      expect(t?.name).toBe(name);
      expect(t?.type.name).toBe(type);
      expect(t?.dims).toEqual((dims as string).split(", ").map(Number));
      expect(t?.offset).toBe(Number(off));
    });
    expect(file.header.dataOffset + file.header.dataByteLength).toBe(bytes.length);
  });

  it("reads tensor data where the dump says (attn_norm is F32 with 8 finite values)", () => {
    const t = file.getTensor("blk.0.attn_norm.weight");
    expect(t.data.length).toBe(32);
    const dv = new DataView(t.data.buffer, t.data.byteOffset, 32);
    for (let i = 0; i < 8; i++) expect(Number.isFinite(dv.getFloat32(i * 4, true))).toBe(true);
    expect(t.data.byteOffset - bytes.byteOffset).toBe(724416 + 514048);
  });

  it("writes the same bytes back (the writer lays out files as llama.cpp does)", () => {
    const again = serializeGguf({
      metadata: file.metadata,
      tensors: file.tensors.map((t) => ({
        name: t.name,
        type: t.type.name,
        dims: t.dims,
        data: file.getTensor(t.name).data,
      })),
    });
    expect(again.length).toBe(bytes.length);
    expect(Buffer.compare(Buffer.from(again), Buffer.from(bytes))).toBe(0);
  });

  it("opens lazily: the header without reading the tensor data", async () => {
    const { source, reads } = memorySource(bytes);
    const lazy = await openGguf(source);
    expect(lazy.tensors.map((t) => t.name)).toEqual(file.tensors.map((t) => t.name));
    const readBytes = reads.reduce((n, [, len]) => n + len, 0);
    // the header is 724 KB (a 32000-token vocabulary); reads grow geometrically and stop there
    expect(readBytes).toBeLessThanOrEqual(2 * lazy.header.dataOffset);
    expect(readBytes).toBeLessThan(bytes.length);
    const t = await lazy.readTensor("blk.0.ffn_down.weight");
    expect(t.data).toEqual(file.getTensor("blk.0.ffn_down.weight").data);
  });
});

describe("GGUF rejections", () => {
  it("rejects the truncated ollama file with a typed error", () => {
    const truncated = new Uint8Array(readFileSync(`${dir}/ollama-api-test-truncated.gguf`));
    const r = safeParseGguf(truncated);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe("Truncated");
      expect(isFormatError(r.error)).toBe(true);
    }
  });

  it("rejects every prefix of the real file as Truncated", () => {
    for (const cut of [3, 8, 23, 24, 100, 5000, 724415, 724416, bytes.length - 1]) {
      const r = safeParseGguf(bytes.subarray(0, cut));
      expect(r.ok ? "ok" : r.error.code, `cut ${cut}`).toBe("Truncated");
    }
  });

  it("rejects bad magic, v1, big-endian and unknown versions", () => {
    const bad = bytes.slice(0, 64);
    bad[0] = 0x48;
    expect(code(bad)).toBe("InvalidGguf");
    for (const [v, expected] of [
      [1, "UnsupportedVersion"],
      [4, "UnsupportedVersion"],
      [0x03000000, "UnsupportedVersion"],
    ] as const) {
      const b = bytes.slice();
      new DataView(b.buffer).setUint32(4, v, true);
      expect(code(b)).toBe(expected);
    }
  });

  it("accepts v2 (same layout as v3)", () => {
    const b = bytes.slice();
    new DataView(b.buffer).setUint32(4, 2, true);
    expect(parseGguf(b).header.version).toBe(2);
  });

  it("rejects a header claiming 2^60 tensors or a 2^40-byte string before allocating", () => {
    const huge = header(2n ** 60n, 0n);
    expect(code(huge)).toBe("Truncated");
    const str = header(0n, 1n);
    const w = new Uint8Array(str.length + 8);
    w.set(str);
    new DataView(w.buffer).setBigUint64(str.length, 2n ** 40n, true);
    expect(code(w)).toBe("Truncated");
    const kv = header(0n, 2n ** 62n);
    expect(code(kv)).toBe("Truncated");
  });
});

function header(tensors: bigint, kvs: bigint): Uint8Array {
  const b = new Uint8Array(24);
  const dv = new DataView(b.buffer);
  b.set([0x47, 0x47, 0x55, 0x46]);
  dv.setUint32(4, 3, true);
  dv.setBigUint64(8, tensors, true);
  dv.setBigUint64(16, kvs, true);
  return b;
}

function code(b: Uint8Array): string {
  const r = safeParseGguf(b);
  return r.ok ? "ok" : r.error.code;
}
