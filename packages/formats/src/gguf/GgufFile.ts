import { FormatError, type Result, toResult, toResultAsync } from "../errors.js";
import type { ByteSource } from "../safetensors/LazySafetensors.js";
import { NeedMoreBytes } from "./GgufCursor.js";
import { parseGgufHeader } from "./parseGgufHeader.js";
import type { GgufHeader, GgufTensor, GgufTensorInfo, GgufValue } from "./types.js";

/** Header lookups shared by the in-memory and the lazy reader. */
abstract class GgufIndex {
  readonly #byName: ReadonlyMap<string, GgufTensorInfo>;
  constructor(readonly header: GgufHeader) {
    this.#byName = new Map(header.tensors.map((t) => [t.name, t]));
  }
  get metadata(): ReadonlyMap<string, GgufValue> {
    return this.header.metadata;
  }
  get tensors(): readonly GgufTensorInfo[] {
    return this.header.tensors;
  }
  /** A metadata value when it is a string, else undefined. */
  getString(key: string): string | undefined {
    const v = this.header.metadata.get(key);
    return v?.type === "string" ? v.value : undefined;
  }
  /** A metadata value when it is a (non-64-bit) number, else undefined. */
  getNumber(key: string): number | undefined {
    const v = this.header.metadata.get(key);
    return v && typeof v.value === "number" ? v.value : undefined;
  }
  info(name: string): GgufTensorInfo {
    const t = this.#byName.get(name);
    if (!t)
      throw new FormatError(
        "TensorNotFound",
        `gguf: expected a tensor named ${JSON.stringify(name)}, found none among ${this.#byName.size}`,
      );
    return t;
  }
}

/** A whole GGUF file in memory; tensor data are views into its bytes. */
export class GgufFile extends GgufIndex {
  constructor(
    header: GgufHeader,
    readonly bytes: Uint8Array,
  ) {
    super(header);
  }
  getTensor(name: string): GgufTensor {
    const info = this.info(name);
    const start = this.header.dataOffset + info.offset;
    return { info, data: this.bytes.subarray(start, start + info.byteLength) };
  }
}

/** Parses a complete GGUF file held in memory (throws `FormatError`). */
export function parseGguf(bytes: Uint8Array): GgufFile {
  return new GgufFile(parseGgufHeader(bytes), bytes);
}

export function safeParseGguf(bytes: Uint8Array): Result<GgufFile> {
  return toResult(() => parseGguf(bytes));
}

const FIRST_READ = 64 * 1024;

/** A GGUF file read on demand: the header first, then one tensor per `readTensor`. */
export class LazyGguf extends GgufIndex {
  readonly #source: ByteSource;
  private constructor(header: GgufHeader, source: ByteSource) {
    super(header);
    this.#source = source;
  }

  /**
   * Reads only as much of `source` as the header needs (64 KiB, doubling while the header runs
   * past it). Closes the source when the header is invalid.
   */
  static async open(source: ByteSource): Promise<LazyGguf> {
    try {
      let bytes = source.size > 0 ? await source.read(0, Math.min(source.size, FIRST_READ)) : new Uint8Array(0);
      for (;;) {
        try {
          return new LazyGguf(parseGgufHeader(bytes, source.size), source);
        } catch (error) {
          if (!(error instanceof NeedMoreBytes)) throw error;
          // Grow geometrically, reading only the new bytes.
          const length = Math.min(source.size, Math.max(error.needed, bytes.length * 2));
          const more = await source.read(bytes.length, length - bytes.length);
          const next = new Uint8Array(length);
          next.set(bytes);
          next.set(more, bytes.length);
          bytes = next;
        }
      }
    } catch (error) {
      await source.close?.();
      throw error;
    }
  }

  async readTensor(name: string): Promise<GgufTensor> {
    const info = this.info(name);
    const data = await this.#source.read(this.header.dataOffset + info.offset, info.byteLength);
    if (data.length !== info.byteLength) {
      throw new FormatError("Truncated", `gguf: expected ${info.byteLength} bytes for ${name}, found ${data.length}`);
    }
    return { info, data };
  }

  close(): Promise<void> {
    return this.#source.close?.() ?? Promise.resolve();
  }
}

export function openGguf(source: ByteSource): Promise<LazyGguf> {
  return LazyGguf.open(source);
}

export function safeOpenGguf(source: ByteSource): Promise<Result<LazyGguf>> {
  return toResultAsync(() => LazyGguf.open(source));
}
