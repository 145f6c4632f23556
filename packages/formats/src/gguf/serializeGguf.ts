import { FormatError } from "../errors.js";
import { ggmlByteLength, ggmlTypeByName } from "./ggmlTypes.js";
import { GGUF_DEFAULT_ALIGNMENT, GGUF_MAGIC, GGUF_MAX_DIMS, GGUF_MAX_TENSOR_NAME_BYTES } from "./parseGgufHeader.js";
import { GGUF_VALUE_TYPES, type GgufArrayItem, type GgufValue, type GgufValueType } from "./types.js";

/** A tensor to write: `type` is a ggml type name (`F32`, `F16`, `Q8_0`...), `dims` in ggml order. */
export interface GgufTensorInput {
  readonly name: string;
  readonly type: string;
  readonly dims: readonly number[];
  readonly data: Uint8Array;
}

export interface GgufInput {
  readonly metadata: ReadonlyMap<string, GgufValue> | Readonly<Record<string, GgufValue>>;
  readonly tensors: readonly GgufTensorInput[];
}

const encoder = new TextEncoder();

class ByteWriter {
  #buf = new Uint8Array(1024);
  #view = new DataView(this.#buf.buffer);
  length = 0;

  #reserve(n: number): void {
    if (this.length + n <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buf.subarray(0, this.length));
    this.#buf = next;
    this.#view = new DataView(next.buffer);
  }
  bytes(b: Uint8Array): void {
    this.#reserve(b.length);
    this.#buf.set(b, this.length);
    this.length += b.length;
  }
  pad(alignment: number): void {
    const n = (alignment - (this.length % alignment)) % alignment;
    this.#reserve(n);
    this.#buf.fill(0, this.length, this.length + n);
    this.length += n;
  }
  num(type: Exclude<GgufValueType, "string" | "array" | "bool" | "u64" | "i64">, v: number): void {
    const size = type === "f64" ? 8 : type.endsWith("8") ? 1 : type.endsWith("16") ? 2 : 4;
    this.#reserve(size);
    const o = this.length;
    const dv = this.#view;
    if (type === "u8") dv.setUint8(o, v);
    else if (type === "i8") dv.setInt8(o, v);
    else if (type === "u16") dv.setUint16(o, v, true);
    else if (type === "i16") dv.setInt16(o, v, true);
    else if (type === "u32") dv.setUint32(o, v, true);
    else if (type === "i32") dv.setInt32(o, v, true);
    else if (type === "f32") dv.setFloat32(o, v, true);
    else dv.setFloat64(o, v, true);
    this.length += size;
  }
  big(type: "u64" | "i64", v: bigint): void {
    this.#reserve(8);
    if (type === "u64") this.#view.setBigUint64(this.length, v, true);
    else this.#view.setBigInt64(this.length, v, true);
    this.length += 8;
  }
  string(s: string): void {
    const b = encoder.encode(s);
    this.big("u64", BigInt(b.length));
    this.bytes(b);
  }
  result(): Uint8Array {
    return this.#buf.slice(0, this.length);
  }
}

const INT_RANGES: Readonly<Record<string, readonly [number, number]>> = {
  u8: [0, 0xff],
  i8: [-0x80, 0x7f],
  u16: [0, 0xffff],
  i16: [-0x8000, 0x7fff],
  u32: [0, 0xffffffff],
  i32: [-0x80000000, 0x7fffffff],
};

function writeItem(w: ByteWriter, type: GgufValueType, v: GgufArrayItem, where: string): void {
  const bad = () =>
    new FormatError("InvalidGguf", `gguf write: expected a ${type} value for ${where}, found ${typeof v} ${String(v)}`);
  switch (type) {
    case "string":
      if (typeof v !== "string") throw bad();
      w.string(v);
      return;
    case "bool":
      if (typeof v !== "boolean") throw bad();
      w.num("u8", v ? 1 : 0);
      return;
    case "u64":
    case "i64":
      if (typeof v !== "bigint") throw bad();
      if (type === "u64" ? v < 0n || v >= 1n << 64n : v < -(1n << 63n) || v >= 1n << 63n) throw bad();
      w.big(type, v);
      return;
    case "f32":
    case "f64":
      if (typeof v !== "number") throw bad();
      w.num(type, v);
      return;
    case "array": {
      if (typeof v !== "object" || v === null || v.type !== "array") throw bad();
      w.num("u32", GGUF_VALUE_TYPES.indexOf(v.itemType));
      w.big("u64", BigInt(v.value.length));
      for (let i = 0; i < v.value.length; i++) writeItem(w, v.itemType, v.value[i] as GgufArrayItem, `${where}[${i}]`);
      return;
    }
    default: {
      const range = INT_RANGES[type] as readonly [number, number];
      if (typeof v !== "number" || !Number.isInteger(v) || v < range[0] || v > range[1]) throw bad();
      w.num(type, v);
      return;
    }
  }
}

/**
 * Writes a GGUF v3 file (little-endian). Deterministic: metadata in the given order, tensors in
 * the given order, each tensor's data padded with zeros to `general.alignment` (32 when absent).
 */
export function serializeGguf(input: GgufInput): Uint8Array {
  const entries: Array<[string, GgufValue]> =
    input.metadata instanceof Map ? [...input.metadata] : Object.entries(input.metadata as Record<string, GgufValue>);
  const alignEntry = entries.find(([k]) => k === "general.alignment")?.[1];
  let alignment = GGUF_DEFAULT_ALIGNMENT;
  if (alignEntry) {
    if (alignEntry.type !== "u32" || alignEntry.value <= 0 || (alignEntry.value & (alignEntry.value - 1)) !== 0) {
      throw new FormatError(
        "InvalidGguf",
        `gguf write: expected general.alignment to be a u32 power of two, found ${alignEntry.type} ${String(alignEntry.value)}`,
      );
    }
    alignment = alignEntry.value;
  }
  const w = new ByteWriter();
  w.num("u32", GGUF_MAGIC);
  w.num("u32", 3);
  w.big("u64", BigInt(input.tensors.length));
  w.big("u64", BigInt(entries.length));
  for (const [key, value] of entries) {
    if (key.length === 0)
      throw new FormatError("InvalidGguf", `gguf write: expected non-empty metadata keys, found ""`);
    w.string(key);
    w.num("u32", GGUF_VALUE_TYPES.indexOf(value.type));
    writeItem(w, value.type, value.type === "array" ? value : (value.value as GgufArrayItem), key);
  }
  let offset = 0;
  const names = new Set<string>();
  for (const t of input.tensors) {
    const type = ggmlTypeByName(t.type);
    if (!type)
      throw new FormatError(
        "InvalidGguf",
        `gguf write: expected a ggml type name for ${t.name}, found ${JSON.stringify(t.type)}`,
      );
    const nameBytes = encoder.encode(t.name).length;
    if (nameBytes === 0 || nameBytes > GGUF_MAX_TENSOR_NAME_BYTES || names.has(t.name)) {
      throw new FormatError(
        "InvalidGguf",
        `gguf write: expected a unique tensor name of 1..${GGUF_MAX_TENSOR_NAME_BYTES} bytes, found ${JSON.stringify(t.name)}`,
      );
    }
    names.add(t.name);
    if (t.dims.length < 1 || t.dims.length > GGUF_MAX_DIMS) {
      throw new FormatError(
        "InvalidGguf",
        `gguf write: expected 1..${GGUF_MAX_DIMS} dims for ${t.name}, found ${t.dims.length}`,
      );
    }
    const size = ggmlByteLength(type, t.dims, `gguf write ${t.name}`);
    if (size !== BigInt(t.data.length)) {
      throw new FormatError(
        "InvalidTensorData",
        `gguf write: expected ${size} bytes for ${t.name} (${t.type} [${t.dims}]), found ${t.data.length}`,
      );
    }
    w.string(t.name);
    w.num("u32", t.dims.length);
    for (const d of t.dims) w.big("u64", BigInt(d));
    w.num("u32", type.id);
    w.big("u64", BigInt(offset));
    offset += Math.ceil(t.data.length / alignment) * alignment;
  }
  w.pad(alignment);
  for (const t of input.tensors) {
    w.bytes(t.data);
    w.pad(alignment);
  }
  return w.result();
}
