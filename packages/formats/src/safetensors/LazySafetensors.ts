import { FormatError, type Result, toResultAsync } from "../errors.js";
import { checkDataLength, LENGTH_PREFIX_BYTES, readHeaderLength } from "./headerLength.js";
import { parseSafetensorsHeader } from "./parseSafetensorsHeader.js";
import { SafetensorsIndex, type Tensor } from "./SafetensorsFile.js";

/** Random access to the bytes of a file of known size (a file handle, a Blob, an HTTP range...). */
export interface ByteSource {
  readonly size: number;
  /** Must resolve to exactly `length` bytes starting at `offset`. */
  read(offset: number, length: number): Promise<Uint8Array>;
  close?(): Promise<void>;
}

/** First read: enough for the length and the header of most files, in one round trip. */
const FIRST_READ_BYTES = 64 * 1024;

/**
 * A safetensors file read on demand: opening reads only the length and the header; each
 * `readTensor` reads only that tensor's bytes.
 */
export class LazySafetensors extends SafetensorsIndex {
  #source: ByteSource;
  #closed = false;

  private constructor(source: ByteSource, header: ConstructorParameters<typeof SafetensorsIndex>[0], n: number) {
    super(header, n);
    this.#source = source;
  }

  /** Reads and validates the header of `source`. Closes the source if the header is invalid. */
  static async open(source: ByteSource): Promise<LazySafetensors> {
    try {
      const size = source.size;
      const first = size > 0 ? await readExactly(source, 0, Math.min(size, FIRST_READ_BYTES)) : new Uint8Array(0);
      const n = readHeaderLength(first, size);
      const end = LENGTH_PREFIX_BYTES + n;
      const headerBytes =
        end <= first.length
          ? first.subarray(LENGTH_PREFIX_BYTES, end)
          : await readExactly(source, LENGTH_PREFIX_BYTES, n);
      const header = parseSafetensorsHeader(headerBytes);
      checkDataLength(n, header.dataByteLength, size);
      return new LazySafetensors(source, header, n);
    } catch (error) {
      await source.close?.();
      throw error;
    }
  }

  /** Reads one tensor's bytes (a fresh, aligned buffer). */
  async readTensor(name: string): Promise<Tensor> {
    const info = this.info(name);
    if (this.#closed)
      throw new FormatError(
        "IoError",
        `safetensors: expected an open file to read ${JSON.stringify(name)}, found it closed`,
      );
    const [start, end] = info.dataOffsets;
    const data = await readExactly(this.#source, this.dataOffset + start, end - start);
    return { dtype: info.dtype, shape: info.shape, data };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#source.close?.();
  }
}

const asyncDispose = (Symbol as { asyncDispose?: symbol }).asyncDispose;
if (asyncDispose) {
  Object.defineProperty(LazySafetensors.prototype, asyncDispose, {
    value(this: LazySafetensors) {
      return this.close();
    },
  });
}

async function readExactly(source: ByteSource, offset: number, length: number): Promise<Uint8Array> {
  if (length === 0) return new Uint8Array(0);
  const bytes = await source.read(offset, length);
  if (bytes.length !== length) {
    throw new FormatError(
      "Truncated",
      `safetensors: expected ${length} bytes at offset ${offset}, found ${bytes.length} (did the file change?)`,
    );
  }
  return bytes;
}

/** Opens any {@link ByteSource}; see {@link LazySafetensors}. */
export function openSafetensorsSource(source: ByteSource): Promise<LazySafetensors> {
  return LazySafetensors.open(source);
}

/** A `Blob` (or `File`) as a {@link ByteSource}: works in browsers and in Node. */
export function blobSource(blob: Blob): ByteSource {
  return {
    size: blob.size,
    async read(offset, length) {
      return new Uint8Array(await blob.slice(offset, offset + length).arrayBuffer());
    },
  };
}

/** Lazy reader over a `Blob`/`File`: opening costs only the header. */
export function openSafetensorsBlob(blob: Blob): Promise<LazySafetensors> {
  return LazySafetensors.open(blobSource(blob));
}

/** {@link openSafetensorsBlob} that returns `{ ok: false, error }` instead of throwing. */
export function safeOpenSafetensorsBlob(blob: Blob): Promise<Result<LazySafetensors>> {
  return toResultAsync(() => openSafetensorsBlob(blob));
}
