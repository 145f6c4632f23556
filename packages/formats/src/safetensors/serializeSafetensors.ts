import { type Dtype, dtypeRank, isDtype, tensorByteLength } from "../dtype.js";
import { FormatError } from "../errors.js";
import { METADATA_KEY } from "./parseSafetensorsHeader.js";

/** A tensor to write: `data` is its raw little-endian bytes (any typed array, viewed as bytes). */
export interface TensorInput {
  readonly dtype: Dtype;
  readonly shape: readonly number[];
  readonly data: ArrayBufferView;
}

export type TensorInputs = Readonly<Record<string, TensorInput>> | ReadonlyMap<string, TensorInput>;

/** The header (with its 8-byte length) and the tensors in the order their bytes follow it. */
export interface PreparedSafetensors {
  readonly prefix: Uint8Array;
  readonly order: ReadonlyArray<readonly [name: string, data: Uint8Array]>;
  readonly byteLength: number;
}

const encoder = new TextEncoder();

/**
 * Lays out a safetensors file the way the reference writer does, so equal content gives equal
 * bytes: tensors sorted by dtype (widest first, reference order) then by name (UTF-8 byte order),
 * data packed back to back, header JSON padded with spaces to a multiple of 8. Metadata keys are
 * sorted too (the reference leaves their order to a hash map).
 */
export function prepareSafetensors(
  tensors: TensorInputs,
  metadata?: Readonly<Record<string, string>> | null,
): PreparedSafetensors {
  const items: Array<[string, TensorInput]> = tensors instanceof Map ? [...tensors] : Object.entries(tensors);
  for (const [name, t] of items) validate(name, t);
  items.sort(([an, a], [bn, b]) => dtypeRank(b.dtype) - dtypeRank(a.dtype) || compareCodePoints(an, bn));

  const parts: string[] = [];
  if (metadata) parts.push(`"${METADATA_KEY}":${metadataJson(metadata)}`);
  const order: Array<[string, Uint8Array]> = [];
  let offset = 0;
  for (const [name, t] of items) {
    const data = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    parts.push(
      `${JSON.stringify(name)}:{"dtype":"${t.dtype}","shape":[${t.shape.join(",")}],"data_offsets":[${offset},${offset + data.length}]}`,
    );
    offset += data.length;
    order.push([name, data]);
  }
  const json = encoder.encode(`{${parts.join(",")}}`);
  const headerLength = Math.ceil(json.length / 8) * 8;
  const prefix = new Uint8Array(8 + headerLength).fill(0x20, 8);
  new DataView(prefix.buffer).setBigUint64(0, BigInt(headerLength), true);
  prefix.set(json, 8);
  return { prefix, order, byteLength: prefix.length + offset };
}

/** Serializes tensors (and optional string metadata) into one deterministic safetensors buffer. */
export function serializeSafetensors(
  tensors: TensorInputs,
  metadata?: Readonly<Record<string, string>> | null,
): Uint8Array {
  const { prefix, order, byteLength } = prepareSafetensors(tensors, metadata);
  const out = new Uint8Array(byteLength);
  out.set(prefix, 0);
  let at = prefix.length;
  for (const [, data] of order) {
    out.set(data, at);
    at += data.length;
  }
  return out;
}

function validate(name: string, t: TensorInput): void {
  const where = `tensor ${JSON.stringify(name)}`;
  if (name === METADATA_KEY)
    throw new FormatError("TensorInvalidInfo", `${where}: expected a tensor name, found the reserved key`);
  if (!isWellFormed(name))
    throw new FormatError(
      "TensorInvalidInfo",
      `${where}: expected a name that is valid Unicode, found a lone surrogate`,
    );
  if (!isDtype(t.dtype))
    throw new FormatError("UnknownDtype", `${where}: expected a safetensors dtype, found ${String(t.dtype)}`);
  for (const d of t.shape) {
    if (!Number.isSafeInteger(d) || d < 0)
      throw new FormatError(
        "TensorInvalidInfo",
        `${where}: expected dimensions that are integers >= 0, found [${t.shape.join(",")}]`,
      );
  }
  const expected = tensorByteLength(t.dtype, t.shape, where);
  if (BigInt(t.data.byteLength) !== expected) {
    throw new FormatError(
      "TensorInvalidInfo",
      `${where}: expected ${expected} bytes for ${t.dtype} [${t.shape.join(",")}], found ${t.data.byteLength}`,
    );
  }
}

function metadataJson(metadata: Readonly<Record<string, string>>): string {
  const keys = Object.keys(metadata).sort(compareCodePoints);
  const fields = keys.map((k) => {
    const v = metadata[k];
    if (typeof v !== "string" || !isWellFormed(k) || !isWellFormed(v)) {
      throw new FormatError(
        "InvalidMetadata",
        `${METADATA_KEY}.${k}: expected a well-formed string value, found ${typeof v}`,
      );
    }
    return `${JSON.stringify(k)}:${JSON.stringify(v)}`;
  });
  return `{${fields.join(",")}}`;
}

const LONE_SURROGATE = /\p{Surrogate}/u;

/** False when `s` holds a lone surrogate (which UTF-8 cannot encode). */
function isWellFormed(s: string): boolean {
  return !LONE_SURROGATE.test(s);
}

/** Code point order, which equals UTF-8 byte order (plain `<` compares UTF-16 code units). */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x - y;
  }
  return a.length - b.length;
}
