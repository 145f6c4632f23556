import { createReadStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import {
  DeleteObjectCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from "@aws-sdk/client-s3";
import { BlobError } from "./BlobError.js";
import {
  assertDigest,
  type BlobStore,
  type ByteRange,
  collect,
  type PutOptions,
  type StoredBlob,
} from "./BlobStore.js";
import { DiskBlobStore, verifying } from "./DiskBlobStore.js";

export interface S3BlobStoreOptions {
  bucket: string;
  /** Key prefix, without a trailing slash (`lowrank`); blobs are `<prefix>/sha256/<hex>`. */
  prefix?: string;
  /** Client settings (endpoint, region, credentials). Checksum and path-style settings are added. */
  client: S3ClientConfig;
}

/**
 * Blobs in an S3-compatible bucket under `<prefix>/sha256/<hex>`. An upload is spooled to a local
 * temporary file while it is hashed and measured (the key is the hash, known only at the end), then
 * sent with its length. Ranges are computed here: some servers answer `bytes=0-0` with the whole
 * object, so the reply is cut to the range asked for.
 */
export class S3BlobStore implements BlobStore {
  readonly kind = "s3" as const;
  readonly location: string;
  readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;

  constructor(options: S3BlobStoreOptions) {
    this.bucket = options.bucket;
    this.prefix = options.prefix ? `${options.prefix.replace(/\/+$/, "")}/` : "";
    this.location = `s3://${options.bucket}/${this.prefix}`;
    // Without WHEN_REQUIRED the SDK sends streamed bodies aws-chunked, which some S3 servers store
    // with the chunk framing in the object.
    this.client = new S3Client({
      forcePathStyle: true,
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
      ...options.client,
    });
  }

  private key(sha256: string): string {
    assertDigest(sha256);
    return `${this.prefix}sha256/${sha256}`;
  }

  async put(body: AsyncIterable<Uint8Array>, options: PutOptions = {}): Promise<StoredBlob> {
    const spoolDir = await mkdtemp(join(tmpdir(), "lowrank-s3-spool-"));
    try {
      const spool = new DiskBlobStore(spoolDir);
      const stored = await spool.put(body, options);
      const path = join(spoolDir, "sha256", stored.sha256.slice(0, 2), stored.sha256);
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: this.key(stored.sha256),
          Body: createReadStream(path),
          ContentLength: stored.size,
          ContentType: "application/octet-stream",
        }),
      );
      return stored;
    } finally {
      await rm(spoolDir, { recursive: true, force: true });
    }
  }

  async stat(sha256: string): Promise<{ size: number } | null> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.key(sha256) }));
      return { size: Number(head.ContentLength ?? 0) };
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  async stream(sha256: string, range?: ByteRange): Promise<ReadableStream<Uint8Array>> {
    let answer: GetObjectCommandOutput;
    try {
      answer = await this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: this.key(sha256),
          ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}),
        }),
      );
    } catch (error) {
      if (isNotFound(error)) throw new BlobError("NotFound", `expected blob ${sha256} in ${this.location}, found none`);
      throw error;
    }
    const body = Readable.toWeb(answer.Body as Readable) as unknown as ReadableStream<Uint8Array>;
    if (!range) return body.pipeThrough(verifying(sha256));
    // Where did the server start? A proper 206 says so; a 200 (whole object) starts at 0.
    const m = /^bytes (\d+)-/.exec(answer.ContentRange ?? "");
    const served = m ? Number(m[1]) : 0;
    return body.pipeThrough(window(range.start - served, range.end - range.start + 1));
  }

  async read(sha256: string): Promise<Uint8Array> {
    return collect(await this.stream(sha256));
  }

  async delete(sha256: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.key(sha256) }));
  }

  async *list(): AsyncIterable<{ sha256: string; modified: Date }> {
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: `${this.prefix}sha256/`, ContinuationToken: token }),
      );
      for (const o of page.Contents ?? []) {
        const name = o.Key?.slice(`${this.prefix}sha256/`.length) ?? "";
        if (/^[0-9a-f]{64}$/.test(name)) yield { sha256: name, modified: o.LastModified ?? new Date(0) };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async recover(): Promise<number> {
    return 0; // nothing is written to the bucket until the whole blob is known
  }
}

function isNotFound(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === "NoSuchKey" || e?.name === "NotFound" || e?.$metadata?.httpStatusCode === 404;
}

/** Skips `skip` bytes, then passes `length` bytes and ends. */
function window(skip: number, length: number): TransformStream<Uint8Array, Uint8Array> {
  let toSkip = skip;
  let left = length;
  return new TransformStream({
    transform(chunk, controller) {
      let c = chunk;
      if (toSkip > 0) {
        const n = Math.min(toSkip, c.byteLength);
        c = c.subarray(n);
        toSkip -= n;
      }
      if (left <= 0 || c.byteLength === 0) return;
      const take = c.subarray(0, left);
      left -= take.byteLength;
      controller.enqueue(take);
      if (left === 0) controller.terminate();
    },
  });
}
