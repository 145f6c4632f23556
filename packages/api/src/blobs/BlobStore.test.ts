import { createHash } from "node:crypto";
import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BlobStore } from "./BlobStore.js";
import { collect } from "./BlobStore.js";
import type { DiskBlobStore } from "./DiskBlobStore.js";
import { testBlobStores } from "./testing.js";

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
async function* chunks(bytes: Uint8Array, size = 7): AsyncIterable<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}
async function all(store: BlobStore): Promise<string[]> {
  const out: string[] = [];
  for await (const d of store.list()) out.push(d.sha256);
  return out.sort();
}

for (const backend of testBlobStores) {
  describe(`blob store on ${backend.kind}`, () => {
    let store: BlobStore;
    let dispose: () => Promise<void>;
    beforeAll(async () => {
      ({ store, dispose } = await backend.open());
    });
    afterAll(async () => dispose?.());

    it("stores bytes under their sha256, once, and reads them back verified", async () => {
      const bytes = new TextEncoder().encode("hello lowrank blobs, a few bytes long");
      const a = await store.put(chunks(bytes));
      const b = await store.put(chunks(bytes, 3));
      expect(a).toEqual({ sha256: sha(bytes), size: bytes.length });
      expect(b).toEqual(a);
      expect(await store.stat(a.sha256)).toEqual({ size: bytes.length });
      expect(await store.read(a.sha256)).toEqual(bytes);
      expect(await all(store)).toContain(a.sha256);
    });

    it("serves every byte range, including bytes=0-0 and the last byte", async () => {
      const bytes = Uint8Array.from({ length: 300 }, (_, i) => (i * 37) % 251);
      const { sha256 } = await store.put(chunks(bytes, 64));
      await fc.assert(
        fc.asyncProperty(fc.nat(299), fc.nat(299), async (x, y) => {
          const [start, end] = x <= y ? [x, y] : [y, x];
          expect(await collect(await store.stream(sha256, { start, end }))).toEqual(bytes.subarray(start, end + 1));
        }),
        { numRuns: 15 },
      );
      expect(await collect(await store.stream(sha256, { start: 0, end: 0 }))).toEqual(bytes.subarray(0, 1));
      expect(await collect(await store.stream(sha256, { start: 299, end: 299 }))).toEqual(bytes.subarray(299));
    });

    it("refuses an oversized, a short or a mislabelled upload and keeps nothing", async () => {
      const before = await all(store);
      const bytes = new Uint8Array(100).fill(9);
      await expect(store.put(chunks(bytes), { maxBytes: 99 })).rejects.toMatchObject({ code: "TooLarge" });
      await expect(store.put(chunks(bytes), { expectedSize: 101 })).rejects.toMatchObject({ code: "Truncated" });
      await expect(store.put(chunks(bytes), { expectedSha256: "0".repeat(64) })).rejects.toMatchObject({
        code: "DigestMismatch",
      });
      expect(await all(store)).toEqual(before);
    });

    it("answers NotFound for a missing blob and InvalidDigest for a bad name", async () => {
      expect(await store.stat("a".repeat(64))).toBeNull();
      await expect(store.stream("a".repeat(64))).rejects.toMatchObject({ code: "NotFound" });
      await expect(store.stat("../../etc/passwd")).rejects.toMatchObject({ code: "InvalidDigest" });
    });

    it("deletes", async () => {
      const { sha256 } = await store.put(chunks(new Uint8Array([1, 2, 3])));
      await store.delete(sha256);
      expect(await store.stat(sha256)).toBeNull();
    });
  });
}

describe("DiskBlobStore faults", () => {
  it("errors the stream of a blob whose file was damaged on disk, and recover() removes temp files", async () => {
    const { store, dispose } = await testBlobStores[0]!.open();
    try {
      const disk = store as DiskBlobStore;
      const { sha256 } = await disk.put(chunks(new Uint8Array(50).fill(1)));
      writeFileSync(join(disk.root, "sha256", sha256.slice(0, 2), sha256), new Uint8Array(50).fill(2));
      await expect(disk.read(sha256)).rejects.toMatchObject({ code: "DigestMismatch" });
      writeFileSync(join(disk.root, "tmp", "left-by-a-crash"), "partial");
      expect(await disk.recover()).toBe(1);
      expect(readdirSync(join(disk.root, "tmp"))).toEqual([]);
    } finally {
      await dispose();
    }
  });
});
