import { FormatError } from "../errors.js";
import { GgufCursor } from "./GgufCursor.js";
import { ggmlByteLength, ggmlType } from "./ggmlTypes.js";
import {
  GGUF_VALUE_TYPES,
  type GgufArray,
  type GgufArrayItem,
  type GgufHeader,
  type GgufTensorInfo,
  type GgufValue,
  type GgufValueType,
} from "./types.js";

export const GGUF_MAGIC = 0x46554747; // "GGUF" read as little-endian u32
export const GGUF_DEFAULT_ALIGNMENT = 32;
/** llama.cpp's limits: GGML_MAX_NAME (64, with the NUL) and GGML_MAX_DIMS. */
export const GGUF_MAX_TENSOR_NAME_BYTES = 63;
export const GGUF_MAX_DIMS = 4;
const MAX_KEY_BYTES = 65535;
const MAX_ARRAY_DEPTH = 8;

/** Smallest encoding of one value of each type, for checking counts against the bytes left. */
function minBytes(type: GgufValueType): number {
  switch (type) {
    case "u8":
    case "i8":
    case "bool":
      return 1;
    case "u16":
    case "i16":
      return 2;
    case "u32":
    case "i32":
    case "f32":
      return 4;
    case "u64":
    case "i64":
    case "f64":
    case "string":
      return 8;
    case "array":
      return 12;
  }
}

function valueType(c: GgufCursor, where: string): GgufValueType {
  const at = c.pos;
  const id = c.u32(`${where} type`);
  const t = GGUF_VALUE_TYPES[id];
  if (t === undefined) {
    throw new FormatError(
      "InvalidGguf",
      `gguf: expected a value type id 0..${GGUF_VALUE_TYPES.length - 1} for ${where} at offset ${at}, found ${id}`,
    );
  }
  return t;
}

function scalar(
  c: GgufCursor,
  type: Exclude<GgufValueType, "array">,
  where: string,
): number | bigint | boolean | string {
  switch (type) {
    case "u8":
      return c.u8(where);
    case "i8":
      return c.i8(where);
    case "u16":
      return c.u16(where);
    case "i16":
      return c.i16(where);
    case "u32":
      return c.u32(where);
    case "i32":
      return c.i32(where);
    case "f32":
      return c.f32(where);
    case "f64":
      return c.f64(where);
    case "u64":
      return c.u64(where);
    case "i64":
      return c.i64(where);
    case "string":
      return c.string(where);
    case "bool": {
      const at = c.pos;
      const b = c.u8(where);
      if (b > 1)
        throw new FormatError("InvalidGguf", `gguf: expected a bool (0 or 1) for ${where} at offset ${at}, found ${b}`);
      return b === 1;
    }
  }
}

function array(c: GgufCursor, where: string, depth: number): GgufArray {
  if (depth > MAX_ARRAY_DEPTH) {
    throw new FormatError(
      "InvalidGguf",
      `gguf: expected arrays nested at most ${MAX_ARRAY_DEPTH} deep in ${where}, found deeper`,
    );
  }
  const itemType = valueType(c, `${where} item`);
  const n = c.count(`${where} length`, minBytes(itemType));
  const value: GgufArrayItem[] = new Array(n);
  for (let i = 0; i < n; i++) {
    value[i] = itemType === "array" ? array(c, `${where}[${i}]`, depth + 1) : scalar(c, itemType, `${where}[${i}]`);
  }
  return { type: "array", itemType, value };
}

function readValue(c: GgufCursor, type: GgufValueType, where: string): GgufValue {
  if (type === "array") return array(c, where, 1);
  return { type, value: scalar(c, type, where) } as GgufValue;
}

function safeNumber(v: bigint, what: string): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new FormatError("InvalidGguf", `gguf: expected ${what} at most 2^53-1, found ${v}`);
  }
  return Number(v);
}

function alignmentOf(metadata: ReadonlyMap<string, GgufValue>): number {
  const v = metadata.get("general.alignment");
  if (v === undefined) return GGUF_DEFAULT_ALIGNMENT;
  if (v.type !== "u32" || v.value === 0 || (v.value & (v.value - 1)) !== 0) {
    throw new FormatError(
      "InvalidGguf",
      `gguf: expected general.alignment to be a u32 power of two, found ${v.type} ${String(v.value)}`,
    );
  }
  return v.value;
}

/**
 * Parses a GGUF header (v2 or v3, little-endian): magic, version, metadata, tensor infos, and
 * checks every tensor's data lies inside the file, aligned and without overlap. `bytes` may be only
 * the start of a file of `fileSize` bytes; if the header runs past it, an internal
 * `NeedMoreBytes` is thrown so a lazy reader can fetch more (see `openGguf`).
 */
export function parseGgufHeader(bytes: Uint8Array, fileSize = bytes.length): GgufHeader {
  const c = new GgufCursor(bytes, fileSize);
  const magic = c.u32("magic");
  if (magic !== GGUF_MAGIC) {
    throw new FormatError(
      "InvalidGguf",
      `gguf: expected magic "GGUF" (47 47 55 46), found ${hex(bytes.subarray(0, 4))}`,
    );
  }
  const version = c.u32("version");
  if (version !== 2 && version !== 3) {
    const hint =
      version === 1
        ? " (GGUF v1 used 32-bit counts; convert it with a current llama.cpp)"
        : (version & 0xffff) === 0
          ? " (this looks like a big-endian file, which is not supported)"
          : "";
    throw new FormatError("UnsupportedVersion", `gguf: expected version 2 or 3, found ${version}${hint}`);
  }
  // A tensor info takes at least 8 (name len) + 1 + 4 (n_dims) + 4 (type) + 8 (offset) bytes.
  const tensorCount = c.count("tensor count", 25);
  // A metadata entry takes at least 8 (key len) + 1 + 4 (type) + 1 bytes.
  const kvCount = c.count("metadata count", 14);
  const metadata = new Map<string, GgufValue>();
  for (let i = 0; i < kvCount; i++) {
    const key = c.string(`metadata key #${i}`, MAX_KEY_BYTES);
    if (key.length === 0)
      throw new FormatError("InvalidGguf", `gguf: expected a non-empty metadata key #${i}, found ""`);
    if (metadata.has(key))
      throw new FormatError("InvalidGguf", `gguf: expected unique metadata keys, found ${JSON.stringify(key)} twice`);
    const type = valueType(c, key);
    metadata.set(key, readValue(c, type, key));
  }
  const alignment = alignmentOf(metadata);

  const tensors: GgufTensorInfo[] = [];
  const names = new Set<string>();
  for (let i = 0; i < tensorCount; i++) {
    const name = c.string(`tensor #${i} name`, GGUF_MAX_TENSOR_NAME_BYTES);
    if (name.length === 0)
      throw new FormatError("InvalidGguf", `gguf: expected a non-empty name for tensor #${i}, found ""`);
    if (names.has(name))
      throw new FormatError("InvalidGguf", `gguf: expected unique tensor names, found ${JSON.stringify(name)} twice`);
    names.add(name);
    const nDims = c.u32(`${name} n_dimensions`);
    if (nDims < 1 || nDims > GGUF_MAX_DIMS) {
      throw new FormatError("InvalidGguf", `gguf: expected 1..${GGUF_MAX_DIMS} dimensions for ${name}, found ${nDims}`);
    }
    const dims: number[] = [];
    for (let d = 0; d < nDims; d++) dims.push(safeNumber(c.u64(`${name} dims`), `${name} dimension ${d}`));
    const type = ggmlType(c.u32(`${name} type`), `gguf tensor ${name}`);
    const offset = safeNumber(c.u64(`${name} offset`), `${name} offset`);
    if (offset % alignment !== 0) {
      throw new FormatError(
        "InvalidGguf",
        `gguf: expected ${name}'s offset to be a multiple of ${alignment}, found ${offset}`,
      );
    }
    const byteLength = ggmlByteLength(type, dims, `gguf tensor ${name}`);
    if (byteLength > BigInt(fileSize)) {
      throw new FormatError(
        "Truncated",
        `gguf: ${name} needs ${byteLength} bytes, expected at most the file size ${fileSize}`,
      );
    }
    tensors.push({ name, type, dims, offset, byteLength: Number(byteLength) });
  }
  const dataOffset = Math.ceil(c.pos / alignment) * alignment;
  const dataByteLength = checkLayout(tensors);
  if (dataOffset + dataByteLength > fileSize) {
    throw new FormatError(
      "Truncated",
      `gguf: expected ${dataOffset + dataByteLength} bytes (header ${dataOffset} + tensor data ${dataByteLength}), found ${fileSize}`,
    );
  }
  return { version, metadata, tensors, alignment, dataOffset, dataByteLength };
}

/** Tensors must not overlap; returns the end of the last one. */
function checkLayout(tensors: readonly GgufTensorInfo[]): number {
  const sorted = [...tensors].sort((a, b) => a.offset - b.offset);
  let end = 0;
  let prev = "";
  for (const t of sorted) {
    if (t.offset < end) {
      throw new FormatError(
        "InvalidGguf",
        `gguf: expected ${t.name} to start at or after ${end} (end of ${prev}), found offset ${t.offset}`,
      );
    }
    end = t.offset + t.byteLength;
    prev = t.name;
  }
  return end;
}

function hex(b: Uint8Array): string {
  return [...b].map((x) => x.toString(16).padStart(2, "0")).join(" ") || "(nothing)";
}
