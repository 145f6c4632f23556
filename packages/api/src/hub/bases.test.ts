import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { BlobStore } from "../blobs/BlobStore.js";
import { DiskBlobStore } from "../blobs/DiskBlobStore.js";
import { blobByteSource } from "./bases.js";

const root = mkdtempSync(join(tmpdir(), "lowrank-bases-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const store = new DiskBlobStore(root);
const bytes = Uint8Array.from({ length: 100 }, (_, i) => (i * 31) % 256);
async function* once(b: Uint8Array) {
  yield b;
}

/** The same store, but its ranged streams ignore the range (whole blob, 7-byte chunks), as a server ignoring Range would. */
const ignoringRanges = (inner: BlobStore): BlobStore =>
  Object.assign(Object.create(inner) as BlobStore, {
    async stream(sha256: string) {
      const all = await inner.read(sha256);
      return new ReadableStream<Uint8Array>({
        start(c) {
          for (let i = 0; i < all.length; i += 7) c.enqueue(all.slice(i, i + 7));
          c.close();
        },
      });
    },
  });

describe("blobByteSource", () => {
  it("reads each range of a stored blob exactly", async () => {
    const { sha256, size } = await store.put(once(bytes));
    const source = blobByteSource(store, sha256, size);
    for (const [offset, length] of [
      [0, 100],
      [0, 1],
      [99, 1],
      [13, 40],
      [50, 0],
    ] as const)
      expect(await source.read(offset, length)).toEqual(bytes.subarray(offset, offset + length));
  });

  it("a short stream (a size past the blob's end) is a Truncated BlobError, not zeros", async () => {
    const { sha256 } = await store.put(once(bytes));
    const source = blobByteSource(store, sha256, 200);
    await expect(source.read(90, 20)).rejects.toMatchObject({ name: "BlobError", code: "Truncated" });
  });

  it("a stream longer than asked (range ignored, several chunks) is an InvalidRange BlobError, not a RangeError", async () => {
    const { sha256, size } = await store.put(once(bytes));
    const source = blobByteSource(ignoringRanges(store), sha256, size);
    await expect(source.read(0, 10)).rejects.toMatchObject({ name: "BlobError", code: "InvalidRange" });
  });
});
