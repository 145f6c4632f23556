import { BlobError } from "./BlobError.js";

/** What `put` learned about the bytes it stored. */
export interface StoredBlob {
  sha256: string;
  size: number;
}

export interface PutOptions {
  /** Refuse (`TooLarge`) as soon as more bytes than this arrive; nothing is kept. */
  maxBytes?: number;
  /** Refuse (`Truncated`) unless exactly this many bytes arrive. */
  expectedSize?: number;
  /** Refuse (`DigestMismatch`) unless the bytes hash to this. */
  expectedSha256?: string;
}

/** An inclusive byte range, already checked against the blob's size. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * Content-addressed storage for adapter and base files: a blob's name is the sha256 of its bytes, so
 * a name always means the same content, and writing the same bytes twice stores them once. Reads of a
 * whole blob are checked against that sha256 (a damaged blob errors the stream instead of serving
 * wrong bytes).
 */
export interface BlobStore {
  readonly kind: "disk" | "s3";
  /** Where the blobs live, for people (`/srv/lowrank/blobs`, `s3://bucket/prefix`). */
  readonly location: string;
  put(body: AsyncIterable<Uint8Array>, options?: PutOptions): Promise<StoredBlob>;
  /** Size of a stored blob, or null. */
  stat(sha256: string): Promise<{ size: number } | null>;
  /** The bytes of a blob (a range of them, or all of them verified against the digest). `NotFound` when absent. */
  stream(sha256: string, range?: ByteRange): Promise<ReadableStream<Uint8Array>>;
  /** The whole blob in memory, verified against its digest. */
  read(sha256: string): Promise<Uint8Array>;
  delete(sha256: string): Promise<void>;
  /** Every stored blob, with when it was written. */
  list(): AsyncIterable<{ sha256: string; modified: Date }>;
  /** Remove what a crash may have left half-written (temporary files). Returns how many. */
  recover(): Promise<number>;
}

const HEX64 = /^[0-9a-f]{64}$/;

export function assertDigest(sha256: string): void {
  if (!HEX64.test(sha256)) {
    throw new BlobError(
      "InvalidDigest",
      `expected a sha256 digest (64 lowercase hex characters), found ${JSON.stringify(sha256.slice(0, 80))}`,
    );
  }
}

export function checkPut(received: StoredBlob, options: PutOptions): void {
  if (options.expectedSize !== undefined && received.size !== options.expectedSize) {
    throw new BlobError("Truncated", `expected ${options.expectedSize} bytes, received ${received.size}`);
  }
  if (options.expectedSha256 !== undefined && received.sha256 !== options.expectedSha256) {
    throw new BlobError(
      "DigestMismatch",
      `expected sha256 ${options.expectedSha256}, received bytes with sha256 ${received.sha256}`,
    );
  }
}

export function tooLarge(maxBytes: number): BlobError {
  return new BlobError("TooLarge", `expected at most ${maxBytes} bytes, received more; upload refused`);
}

/** Bytes of a web stream, collected. */
export async function collect(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) {
    parts.push(chunk);
    size += chunk.byteLength;
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}
