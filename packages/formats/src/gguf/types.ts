import type { GgmlType } from "./ggmlTypes.js";

/** GGUF metadata value types, by their numeric id in the file (`gguf_metadata_value_type`). */
export const GGUF_VALUE_TYPES = [
  "u8",
  "i8",
  "u16",
  "i16",
  "u32",
  "i32",
  "f32",
  "bool",
  "string",
  "array",
  "u64",
  "i64",
  "f64",
] as const;

export type GgufValueType = (typeof GGUF_VALUE_TYPES)[number];

/** An element of a metadata array: a plain JS value for scalar item types, a nested array otherwise. */
export type GgufArrayItem = number | bigint | boolean | string | GgufArray;

export interface GgufArray {
  readonly type: "array";
  readonly itemType: GgufValueType;
  readonly value: readonly GgufArrayItem[];
}

/**
 * One metadata value with its GGUF type, so a file read and written again keeps its types.
 * 64-bit integers are bigints; every other number is a JS number.
 */
export type GgufValue =
  | { readonly type: "u8" | "i8" | "u16" | "i16" | "u32" | "i32" | "f32" | "f64"; readonly value: number }
  | { readonly type: "u64" | "i64"; readonly value: bigint }
  | { readonly type: "bool"; readonly value: boolean }
  | { readonly type: "string"; readonly value: string }
  | GgufArray;

/** One tensor's entry in the header. `dims` are in ggml order (`ne`: fastest-varying first). */
export interface GgufTensorInfo {
  readonly name: string;
  readonly type: GgmlType;
  readonly dims: readonly number[];
  /** Offset of the data relative to the start of the data section. */
  readonly offset: number;
  readonly byteLength: number;
}

/** Everything before the tensor data. */
export interface GgufHeader {
  readonly version: 2 | 3;
  readonly metadata: ReadonlyMap<string, GgufValue>;
  readonly tensors: readonly GgufTensorInfo[];
  /** `general.alignment`, or 32 when absent. */
  readonly alignment: number;
  /** Absolute offset of the data section in the file. */
  readonly dataOffset: number;
  /** Bytes the data section needs (end of the last tensor). */
  readonly dataByteLength: number;
}

/** A GGUF tensor's raw bytes with its header entry. */
export interface GgufTensor {
  readonly info: GgufTensorInfo;
  readonly data: Uint8Array;
}
