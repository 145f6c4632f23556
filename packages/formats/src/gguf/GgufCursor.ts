import { FormatError } from "../errors.js";

/** Thrown (internally) when a header read runs past the bytes held so far but not past the file. */
export class NeedMoreBytes extends Error {
  constructor(readonly needed: number) {
    super(`need ${needed} bytes`);
  }
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Little-endian reads over the first `bytes.length` bytes of a file of `fileSize` bytes. Every
 * length read from the file is checked against what the file can still hold before anything is
 * allocated, so a header claiming 2^60 entries fails at once.
 */
export class GgufCursor {
  pos = 0;
  readonly #view: DataView;

  constructor(
    readonly bytes: Uint8Array,
    readonly fileSize: number,
  ) {
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Bytes left in the file (not just in the buffer) after the cursor. */
  remaining(): number {
    return this.fileSize - this.pos;
  }

  need(n: number, what: string): void {
    if (this.pos + n <= this.bytes.length) return;
    if (this.pos + n <= this.fileSize) throw new NeedMoreBytes(this.pos + n);
    throw new FormatError(
      "Truncated",
      `gguf: expected ${n} more bytes for ${what} at offset ${this.pos}, found ${Math.max(0, this.fileSize - this.pos)} (file is ${this.fileSize} bytes)`,
    );
  }

  u8(what: string): number {
    this.need(1, what);
    return this.#view.getUint8(this.pos++);
  }
  i8(what: string): number {
    this.need(1, what);
    return this.#view.getInt8(this.pos++);
  }
  u16(what: string): number {
    this.need(2, what);
    const v = this.#view.getUint16(this.pos, true);
    this.pos += 2;
    return v;
  }
  i16(what: string): number {
    this.need(2, what);
    const v = this.#view.getInt16(this.pos, true);
    this.pos += 2;
    return v;
  }
  u32(what: string): number {
    this.need(4, what);
    const v = this.#view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }
  i32(what: string): number {
    this.need(4, what);
    const v = this.#view.getInt32(this.pos, true);
    this.pos += 4;
    return v;
  }
  f32(what: string): number {
    this.need(4, what);
    const v = this.#view.getFloat32(this.pos, true);
    this.pos += 4;
    return v;
  }
  f64(what: string): number {
    this.need(8, what);
    const v = this.#view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }
  u64(what: string): bigint {
    this.need(8, what);
    const v = this.#view.getBigUint64(this.pos, true);
    this.pos += 8;
    return v;
  }
  i64(what: string): bigint {
    this.need(8, what);
    const v = this.#view.getBigInt64(this.pos, true);
    this.pos += 8;
    return v;
  }

  /**
   * A count of items each taking at least `minItemBytes`: must fit in what is left of the file
   * (and be at most `max`, when given), else `Truncated` / `InvalidGguf` before any allocation.
   */
  count(what: string, minItemBytes: number, max = Number.MAX_SAFE_INTEGER): number {
    const at = this.pos;
    const n = this.u64(what);
    const room = BigInt(Math.max(0, this.remaining()));
    if (n * BigInt(minItemBytes) > room) {
      throw new FormatError(
        "Truncated",
        `gguf: ${what} at offset ${at} is ${n}, expected at most ${room / BigInt(Math.max(1, minItemBytes))} (each takes at least ${minItemBytes} bytes and ${room} bytes remain)`,
      );
    }
    if (n > BigInt(max)) {
      throw new FormatError("InvalidGguf", `gguf: expected ${what} at most ${max} at offset ${at}, found ${n}`);
    }
    return Number(n);
  }

  /** A `gguf_string_t`: u64 length then UTF-8 bytes. */
  string(what: string, maxBytes = Number.MAX_SAFE_INTEGER): string {
    const len = this.count(`${what} length`, 1, maxBytes);
    this.need(len, what);
    const raw = this.bytes.subarray(this.pos, this.pos + len);
    this.pos += len;
    try {
      return utf8.decode(raw);
    } catch (cause) {
      throw new FormatError("InvalidGguf", `gguf: expected UTF-8 in ${what}, found invalid bytes`, { cause });
    }
  }
}
