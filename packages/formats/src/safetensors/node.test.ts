import { mkdtemp, open, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ByteSource, openSafetensorsSource } from "./LazySafetensors.js";
import { openSafetensors, readSafetensorsFile, safeOpenSafetensors, writeSafetensorsFile } from "./node.js";
import { serializeSafetensors } from "./serializeSafetensors.js";
import { toFloat32 } from "./toFloat32.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "lowrank-formats-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const tensors = {
  "a.weight": { dtype: "F32" as const, shape: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, 6]) },
  "b.bias": { dtype: "F16" as const, shape: [2], data: new Uint16Array([0x3c00, 0xc000]) },
};

/** Header of a file with a 2 GiB F32 tensor then a 4-byte U8 tensor (built by hand: no 2 GiB buffer). */
function bigFilePrefix(): Uint8Array {
  const json = `{"huge":{"dtype":"F32","shape":[${2 ** 29}],"data_offsets":[0,${2 ** 31}]},"small":{"dtype":"U8","shape":[4],"data_offsets":[${2 ** 31},${2 ** 31 + 4}]}}`;
  const padded = json.padEnd(Math.ceil(json.length / 8) * 8, " ");
  const prefix = new Uint8Array(8 + padded.length);
  new DataView(prefix.buffer).setBigUint64(0, BigInt(padded.length), true);
  prefix.set(new TextEncoder().encode(padded), 8);
  return prefix;
}

describe("node file readers and writer", () => {
  it("writeSafetensorsFile writes the same bytes as serializeSafetensors; both readers read them", async () => {
    const path = join(dir, "w.safetensors");
    await writeSafetensorsFile(path, tensors, { format: "pt" });
    const whole = await readSafetensorsFile(path);
    expect(whole.data.buffer.byteLength).toBeGreaterThan(0);
    const expected = serializeSafetensors(tensors, { format: "pt" });
    const lazy = await openSafetensors(path);
    try {
      expect(lazy.metadata).toEqual({ format: "pt" });
      expect(lazy.names()).toEqual(["a.weight", "b.bias"]);
      const a = await lazy.readTensor("a.weight");
      expect(Array.from(toFloat32(a))).toEqual([1, 2, 3, 4, 5, 6]);
      expect(Array.from(toFloat32(await lazy.readTensor("b.bias")))).toEqual([1, -2]);
      expect(Array.from(toFloat32(whole.getTensor("b.bias")))).toEqual([1, -2]);
      await expect(lazy.readTensor("missing")).rejects.toMatchObject({ code: "TensorNotFound" });
    } finally {
      await lazy.close();
    }
    await expect(lazy.readTensor("a.weight")).rejects.toMatchObject({ code: "IoError" });
    const onDisk = await readSafetensorsFile(path);
    expect(onDisk.headerByteLength + 8 + onDisk.data.length).toBe(expected.length);
  });

  it("inspects a 2 GiB (sparse) file from its header alone and reads its last tensor", async () => {
    const prefix = bigFilePrefix();
    const path = join(dir, "big.safetensors");
    await writeFile(path, prefix);
    const fh = await open(path, "r+");
    await fh.truncate(prefix.length + 2 ** 31 + 4); // sparse: costs no disk
    await fh.write(new Uint8Array([1, 2, 3, 4]), 0, 4, prefix.length + 2 ** 31);
    await fh.close();

    const lazy = await openSafetensors(path);
    try {
      expect(lazy.info("huge").shape).toEqual([2 ** 29]);
      expect(Array.from((await lazy.readTensor("small")).data)).toEqual([1, 2, 3, 4]);
    } finally {
      await lazy.close();
    }
  });

  it("opening reads at most 64 KiB, and a tensor read only that tensor's bytes", async () => {
    const prefix = bigFilePrefix();
    const reads: Array<[number, number]> = [];
    const source: ByteSource = {
      size: prefix.length + 2 ** 31 + 4,
      async read(offset, length) {
        reads.push([offset, length]);
        const out = new Uint8Array(length);
        out.set(prefix.subarray(offset, offset + length));
        return out;
      },
    };
    const lazy = await openSafetensorsSource(source);
    expect(reads).toEqual([[0, 64 * 1024]]);
    await lazy.readTensor("small");
    expect(reads[1]).toEqual([prefix.length + 2 ** 31, 4]);
  });

  it("turns file-system failures into IoError and closes the file on a bad header", async () => {
    const r = await safeOpenSafetensors(join(dir, "does-not-exist.safetensors"));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe("IoError");
    const path = join(dir, "bad.safetensors");
    await writeFile(path, new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0, 0x7b]));
    await expect(openSafetensors(path)).rejects.toMatchObject({ code: "InvalidHeaderDeserialization" });
    await expect(readSafetensorsFile(path)).rejects.toMatchObject({ code: "InvalidHeaderDeserialization" });
  });

  it("a file that shrinks under the reader gives Truncated, not a short tensor", async () => {
    const bytes = serializeSafetensors(tensors);
    const path = join(dir, "shrink.safetensors");
    await writeFile(path, bytes);
    const lazy = await openSafetensors(path);
    await writeFile(path, bytes.subarray(0, bytes.length - 2));
    await expect(lazy.readTensor("b.bias")).rejects.toMatchObject({ code: "Truncated" });
    await lazy.close();
  });
});
