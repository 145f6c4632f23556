import { assertDtype, type Dtype, dtypeBits, isDtype, tensorByteLength, U64_MAX } from "../dtype.js";
import { FormatError } from "../errors.js";
import { JsonFloat, type JsonValue, parseHeaderJson } from "./strictJson.js";

/** Where one tensor lives. `dataOffsets` are relative to the start of the data section. */
export interface TensorInfo {
  readonly dtype: Dtype;
  readonly shape: readonly number[];
  readonly dataOffsets: readonly [start: number, end: number];
}

export interface SafetensorsHeader {
  /** `__metadata__` (string to string), or null when the header has none. */
  readonly metadata: Readonly<Record<string, string>> | null;
  /** Every tensor, in data-offset order. */
  readonly tensors: ReadonlyMap<string, TensorInfo>;
  /** Bytes the data section must hold: the end offset of the last tensor. */
  readonly dataByteLength: number;
}

export const METADATA_KEY = "__metadata__";

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Parses and validates the JSON header of a safetensors file (the bytes after the 8-byte length).
 * Enforces the reference implementation's rules: UTF-8, a JSON object, each entry with a known
 * `dtype`, a `shape` of unsigned integers and two `data_offsets`, offsets that (sorted) run
 * contiguously from 0, and byte lengths that match shape x dtype with no overflow. Stricter than
 * the reference: duplicate keys are refused. Checking that the file holds exactly
 * `dataByteLength` data bytes is the caller's job.
 */
export function parseSafetensorsHeader(headerBytes: Uint8Array): SafetensorsHeader {
  let text: string;
  try {
    text = utf8.decode(headerBytes);
  } catch (cause) {
    throw new FormatError(
      "HeaderNotUtf8",
      `safetensors header: expected UTF-8 text, found invalid UTF-8 in ${headerBytes.length} bytes`,
      { cause },
    );
  }
  const root = parseHeaderJson(text);

  let metadata: Record<string, string> | null = null;
  const entries: Entry[] = [];
  for (const [name, value] of root) {
    if (name === METADATA_KEY) {
      metadata = readMetadata(value);
      continue;
    }
    entries.push(readInfo(name, value));
  }

  // The reference sorts by (start, end) before validating, so any key order is accepted.
  // (`<` and `>` compare numbers with bigints exactly.)
  entries.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : a.end < b.end ? -1 : a.end > b.end ? 1 : 0));

  const tensors = new Map<string, TensorInfo>();
  let cursor: Uint = 0;
  for (const e of entries) {
    // Values are canonical (number up to 2^53-1, bigint above), so === is exact equality.
    if (e.start !== cursor || e.end < e.start) {
      throw new FormatError(
        "InvalidOffset",
        `${whereOf(e.name)}: expected data_offsets starting at ${cursor} (contiguous with the previous tensor) and end >= start, found [${e.start}, ${e.end}]`,
      );
    }
    cursor = e.end;
    checkSpan(e);
    tensors.set(e.name, {
      dtype: e.dtype,
      shape: e.shape.map((d) => toSafe(d, e.name)),
      dataOffsets: [Number(e.start), Number(e.end)],
    });
  }
  if (typeof cursor === "bigint") {
    throw new FormatError(
      "MetadataIncompleteBuffer",
      `safetensors header: expected a data section that fits in memory, found one of ${cursor} bytes`,
    );
  }
  return { metadata, tensors, dataByteLength: cursor };
}

function readMetadata(value: JsonValue): Record<string, string> | null {
  if (value === null) return null;
  if (!(value instanceof Map)) {
    throw new FormatError("InvalidMetadata", `${METADATA_KEY}: expected an object of strings, found ${kind(value)}`);
  }
  const out: Record<string, string> = {};
  for (const [k, v] of value) {
    if (typeof v !== "string") {
      throw new FormatError("InvalidMetadata", `${METADATA_KEY}.${k}: expected a string value, found ${kind(v)}`);
    }
    Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** An unsigned integer from the header: a number up to 2^53-1, a bigint above. */
type Uint = number | bigint;

interface Entry {
  name: string;
  dtype: Dtype;
  shape: Uint[];
  start: Uint;
  end: Uint;
}

/** How errors name a tensor; built only when an error is thrown (headers can hold many thousands). */
function whereOf(name: string): string {
  return `tensor ${JSON.stringify(name)}`;
}

/** `end - start` must equal elements x bits / 8: plain numbers while exact, BigInt otherwise. */
function checkSpan(e: Entry): void {
  if (typeof e.start === "number" && typeof e.end === "number") {
    let elements = 1;
    for (const d of e.shape) elements *= Number(d);
    const bits = elements * dtypeBits(e.dtype);
    // A safe result means every factor was exact (a zero factor gives 0 or NaN, both handled).
    if (Number.isSafeInteger(bits) && bits % 8 === 0) {
      if (e.end - e.start !== bits / 8) throw invalidInfo(e, whereOf(e.name), bits / 8, e.end - e.start);
      return;
    }
  }
  const where = whereOf(e.name);
  const bytes = tensorByteLength(e.dtype, e.shape, where); // overflow and misalignment, exactly
  const span = BigInt(e.end) - BigInt(e.start);
  if (span !== bytes) throw invalidInfo(e, where, bytes, span);
}

function invalidInfo(e: Entry, where: string, expected: Uint, found: Uint): FormatError {
  return new FormatError(
    "TensorInvalidInfo",
    `${where}: expected ${expected} bytes for ${e.dtype} [${e.shape.join(",")}], found data_offsets spanning ${found}`,
  );
}

const FIELDS = ["dtype", "shape", "data_offsets"] as const;

function readInfo(name: string, value: JsonValue): Entry {
  if (!(value instanceof Map)) {
    throw new FormatError(
      "InvalidHeaderDeserialization",
      `${whereOf(name)}: expected an object with dtype, shape, data_offsets, found ${kind(value)}`,
    );
  }
  for (const field of FIELDS) {
    if (!value.has(field)) {
      throw new FormatError(
        "InvalidHeaderDeserialization",
        `${whereOf(name)}: expected field "${field}", found only ${JSON.stringify([...value.keys()])}`,
      );
    }
  }
  const rawDtype = value.get("dtype");
  const dtype = isDtype(rawDtype) ? rawDtype : assertDtype(rawDtype, whereOf(name));
  const shape = value.get("shape");
  if (!Array.isArray(shape)) {
    throw new FormatError(
      "InvalidHeaderDeserialization",
      `${whereOf(name)}: expected shape to be an array, found ${kind(shape ?? null)}`,
    );
  }
  const offsets = value.get("data_offsets");
  if (!Array.isArray(offsets) || offsets.length !== 2) {
    throw new FormatError(
      "InvalidHeaderDeserialization",
      `${whereOf(name)}: expected data_offsets to be [start, end], found ${kind(offsets ?? null)}`,
    );
  }
  const dims: Uint[] = new Array(shape.length);
  for (let i = 0; i < shape.length; i++) dims[i] = unsigned(shape[i] as JsonValue, name, "shape");
  return {
    name,
    dtype,
    shape: dims,
    start: unsigned(offsets[0] ?? null, name, "data_offsets"),
    end: unsigned(offsets[1] ?? null, name, "data_offsets"),
  };
}

function unsigned(v: JsonValue, name: string, field: string): Uint {
  if ((typeof v === "number" && v >= 0) || (typeof v === "bigint" && v <= U64_MAX)) return v;
  throw new FormatError(
    "InvalidHeaderDeserialization",
    `${whereOf(name)} ${field}: expected an integer in [0, 2^64-1], found ${kind(v)}`,
  );
}

function toSafe(d: Uint, name: string): number {
  // Only reachable for zero-element tensors (any other huge dimension fails the size checks).
  if (typeof d === "bigint") {
    throw new FormatError("ValidationOverflow", `${whereOf(name)}: expected dimensions up to 2^53-1, found ${d}`);
  }
  return Number(d);
}

function kind(v: JsonValue): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (v instanceof Map) return "an object";
  if (typeof v === "bigint") return v.toString();
  if (v instanceof JsonFloat) return `the non-integer ${v.value}`;
  if (typeof v === "string") return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v);
  return `${typeof v} ${String(v)}`;
}
