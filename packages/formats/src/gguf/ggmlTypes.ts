import type { Dtype } from "../dtype.js";
import { FormatError } from "../errors.js";

/** One ggml tensor type: elements per block and bytes per block (from ggml's type traits). */
export interface GgmlType {
  readonly id: number;
  readonly name: string;
  readonly blockSize: number;
  readonly typeSize: number;
}

const TABLE: ReadonlyArray<readonly [number, string, number, number]> = [
  [0, "F32", 1, 4],
  [1, "F16", 1, 2],
  [2, "Q4_0", 32, 18],
  [3, "Q4_1", 32, 20],
  [6, "Q5_0", 32, 22],
  [7, "Q5_1", 32, 24],
  [8, "Q8_0", 32, 34],
  [9, "Q8_1", 32, 36],
  [10, "Q2_K", 256, 84],
  [11, "Q3_K", 256, 110],
  [12, "Q4_K", 256, 144],
  [13, "Q5_K", 256, 176],
  [14, "Q6_K", 256, 210],
  [15, "Q8_K", 256, 292],
  [16, "IQ2_XXS", 256, 66],
  [17, "IQ2_XS", 256, 74],
  [18, "IQ3_XXS", 256, 98],
  [19, "IQ1_S", 256, 50],
  [20, "IQ4_NL", 32, 18],
  [21, "IQ3_S", 256, 110],
  [22, "IQ2_S", 256, 82],
  [23, "IQ4_XS", 256, 136],
  [24, "I8", 1, 1],
  [25, "I16", 1, 2],
  [26, "I32", 1, 4],
  [27, "I64", 1, 8],
  [28, "F64", 1, 8],
  [29, "IQ1_M", 256, 56],
  [30, "BF16", 1, 2],
  [34, "TQ1_0", 256, 54],
  [35, "TQ2_0", 256, 66],
  [39, "MXFP4", 32, 17],
];

const BY_ID: ReadonlyMap<number, GgmlType> = new Map(
  TABLE.map(([id, name, blockSize, typeSize]) => [id, { id, name, blockSize, typeSize }]),
);
const BY_NAME: ReadonlyMap<string, GgmlType> = new Map([...BY_ID.values()].map((t) => [t.name, t]));

/** The ggml type with this numeric id; `InvalidGguf` for ids ggml does not define (or has removed). */
export function ggmlType(id: number, where: string): GgmlType {
  const t = BY_ID.get(id);
  if (!t) {
    throw new FormatError(
      "InvalidGguf",
      `${where}: expected a ggml type id (one of ${[...BY_ID.keys()].join(", ")}), found ${id}`,
    );
  }
  return t;
}

export function ggmlTypeByName(name: string): GgmlType | undefined {
  return BY_NAME.get(name);
}

/** ggml types whose bytes are plain little-endian elements, with the matching safetensors dtype. */
const TO_DTYPE: Readonly<Record<string, Dtype>> = {
  F32: "F32",
  F16: "F16",
  BF16: "BF16",
  F64: "F64",
  I8: "I8",
  I16: "I16",
  I32: "I32",
  I64: "I64",
};

/** The safetensors dtype with the same byte layout, or undefined for block-quantized types. */
export function ggmlTypeToDtype(type: GgmlType): Dtype | undefined {
  return TO_DTYPE[type.name];
}

/** The ggml type for a safetensors dtype, or undefined when ggml has none (U8, BOOL, F8...). */
export function dtypeToGgmlType(dtype: Dtype): GgmlType | undefined {
  for (const [name, d] of Object.entries(TO_DTYPE)) if (d === dtype) return BY_NAME.get(name);
  return undefined;
}

/**
 * Bytes of a tensor with dims `ne` (ggml order, fastest first). `InvalidGguf` when `ne[0]` is not a
 * whole number of blocks. Returned as a bigint so absurd dims cannot round.
 */
export function ggmlByteLength(type: GgmlType, ne: readonly number[], where: string): bigint {
  const ne0 = BigInt(ne[0] ?? 1);
  const block = BigInt(type.blockSize);
  if (ne0 % block !== 0n) {
    throw new FormatError(
      "InvalidGguf",
      `${where}: expected ne[0] to be a multiple of ${type.name}'s block size ${type.blockSize}, found ${ne0}`,
    );
  }
  let rows = 1n;
  for (let i = 1; i < ne.length; i++) rows *= BigInt(ne[i] as number);
  return (ne0 / block) * BigInt(type.typeSize) * rows;
}
