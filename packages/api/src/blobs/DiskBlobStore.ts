import { createHash, randomUUID } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, open, readdir, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { BlobError } from "./BlobError.js";
import {
  assertDigest,
  type BlobStore,
  type ByteRange,
  checkPut,
  collect,
  type PutOptions,
  type StoredBlob,
  tooLarge,
} from "./BlobStore.js";

/**
 * Blobs as files under `<root>/sha256/<2 hex>/<64 hex>`. A write goes to `<root>/tmp/<uuid>` while
 * it is hashed, is fsynced, then renamed into place: a reader never sees a half-written blob, and a
 * crash leaves only a temporary file, which `recover()` removes.
 */
export class DiskBlobStore implements BlobStore {
  readonly kind = "disk" as const;
  readonly location: string;

  constructor(readonly root: string) {
    this.location = root;
  }

  private pathOf(sha256: string): string {
    assertDigest(sha256);
    return join(this.root, "sha256", sha256.slice(0, 2), sha256);
  }

  async put(body: AsyncIterable<Uint8Array>, options: PutOptions = {}): Promise<StoredBlob> {
    const tmpDir = join(this.root, "tmp");
    await mkdir(tmpDir, { recursive: true });
    const tmp = join(tmpDir, randomUUID());
    const hash = createHash("sha256");
    let size = 0;
    const file = await open(tmp, "wx");
    try {
      for await (const chunk of body) {
        size += chunk.byteLength;
        if (options.maxBytes !== undefined && size > options.maxBytes) throw tooLarge(options.maxBytes);
        hash.update(chunk);
        await file.write(chunk);
      }
      await file.sync();
      await file.close();
      const stored = { sha256: hash.digest("hex"), size };
      checkPut(stored, options);
      const target = this.pathOf(stored.sha256);
      await mkdir(join(target, ".."), { recursive: true });
      await rename(tmp, target); // same content either way: replacing an existing copy is harmless
      return stored;
    } catch (error) {
      await file.close().catch(() => {});
      await rm(tmp, { force: true });
      throw error;
    }
  }

  async stat(sha256: string): Promise<{ size: number } | null> {
    try {
      return { size: (await stat(this.pathOf(sha256))).size };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw error;
    }
  }

  async stream(sha256: string, range?: ByteRange): Promise<ReadableStream<Uint8Array>> {
    const path = this.pathOf(sha256);
    if (!(await this.stat(sha256)))
      throw new BlobError("NotFound", `expected blob ${sha256} in ${this.root}, found none`);
    const nodeStream = createReadStream(path, range ? { start: range.start, end: range.end } : {});
    const web = Readable.toWeb(nodeStream) as unknown as ReadableStream<Uint8Array>;
    return range ? web : web.pipeThrough(verifying(sha256));
  }

  async read(sha256: string): Promise<Uint8Array> {
    return collect(await this.stream(sha256));
  }

  async delete(sha256: string): Promise<void> {
    await rm(this.pathOf(sha256), { force: true });
  }

  async *list(): AsyncIterable<{ sha256: string; modified: Date }> {
    const top = join(this.root, "sha256");
    let prefixes: string[];
    try {
      prefixes = await readdir(top);
    } catch {
      return;
    }
    for (const p of prefixes) {
      for (const name of await readdir(join(top, p))) {
        if (!/^[0-9a-f]{64}$/.test(name)) continue;
        const info = await stat(join(top, p, name)).catch(() => null);
        if (info) yield { sha256: name, modified: info.mtime };
      }
    }
  }

  async recover(): Promise<number> {
    const tmpDir = join(this.root, "tmp");
    let names: string[];
    try {
      names = await readdir(tmpDir);
    } catch {
      return 0;
    }
    await Promise.all(names.map((n) => rm(join(tmpDir, n), { force: true })));
    return names.length;
  }
}

/**
 * Passes bytes through and errors the stream at its end unless they hash to `sha256`. The last chunk
 * is held back until the hash is known, so a reader of a damaged blob never receives all its bytes.
 */
export function verifying(sha256: string): TransformStream<Uint8Array, Uint8Array> {
  const hash = createHash("sha256");
  let held: Uint8Array | undefined;
  return new TransformStream({
    transform(chunk, controller) {
      hash.update(chunk);
      if (held) controller.enqueue(held);
      held = chunk;
    },
    flush(controller) {
      const found = hash.digest("hex");
      if (found !== sha256) {
        controller.error(
          new BlobError(
            "DigestMismatch",
            `blob ${sha256}: expected its bytes to hash to its name, found ${found}; the stored file is damaged`,
          ),
        );
        return;
      }
      if (held) controller.enqueue(held);
    },
  });
}
