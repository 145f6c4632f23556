import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BlobStore } from "./BlobStore.js";
import { DiskBlobStore } from "./DiskBlobStore.js";
import { S3BlobStore } from "./S3BlobStore.js";

interface S3rverInstance {
  run(): Promise<{ port: number }>;
  close(): Promise<void>;
}

/** A local S3 server (s3rver) on a free loopback port, with bucket `lowrank-test`, in a temp folder. */
export async function startS3rver(): Promise<{ endpoint: string; bucket: string; stop(): Promise<void> }> {
  const directory = mkdtempSync(join(tmpdir(), "lowrank-s3rver-"));
  // s3rver ships no types and is CommonJS.
  const { default: S3rver } = (await import("s3rver" as string)) as {
    default: new (options: Record<string, unknown>) => S3rverInstance;
  };
  const server = new S3rver({
    port: 0,
    address: "127.0.0.1",
    silent: true,
    directory,
    configureBuckets: [{ name: "lowrank-test" }],
  });
  const { port } = await server.run();
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket: "lowrank-test",
    async stop() {
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

/** A blob store a suite can run against: on disk in a temp folder, or in s3rver. */
export interface TestBlobStore {
  kind: "disk" | "s3";
  open(): Promise<{ store: BlobStore; dispose(): Promise<void> }>;
}

export const testBlobStores: readonly TestBlobStore[] = [
  {
    kind: "disk",
    async open() {
      const root = mkdtempSync(join(tmpdir(), "lowrank-blobs-"));
      return { store: new DiskBlobStore(root), dispose: async () => rmSync(root, { recursive: true, force: true }) };
    },
  },
  {
    kind: "s3",
    async open() {
      const s3 = await startS3rver();
      const store = new S3BlobStore({
        bucket: s3.bucket,
        prefix: "blobs",
        client: {
          endpoint: s3.endpoint,
          region: "us-east-1",
          credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
        },
      });
      return {
        store,
        async dispose() {
          store.client.destroy();
          await s3.stop();
        },
      };
    },
  },
];
