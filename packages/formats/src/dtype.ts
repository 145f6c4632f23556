import { FormatError } from "./errors.js";

/**
 * Safetensors element types in the reference implementation's declaration order, which is also
 * the order its writer sorts by (descending): wider types first, so every tensor stays aligned.
 */
export const DTYPES = [
  "BOOL",
  "F4",
  "F6_E2M3",
  "F6_E3M2",
  "U8",
  "I8",
  "F8_E5M2",
  "F8_E4M3",
  "F8_E8M0",
  "F8_E4M3FNUZ",
  "F8_E5M2FNUZ",
  "I16",
  "U16",
  "F16",
  "BF16",
  "I32",
  "U32",
  "F32",
  "C64",
  "F64",
  "I64",
  "U64",
] as const;

export type Dtype = (typeof DTYPES)[number];

const BITS: Readonly<Record<Dtype, number>> = {
  BOOL: 8,
  F4: 4,
  F6_E2M3: 6,
  F6_E3M2: 6,
  U8: 8,
  I8: 8,
  F8_E5M2: 8,
  F8_E4M3: 8,
  F8_E8M0: 8,
  F8_E4M3FNUZ: 8,
  F8_E5M2FNUZ: 8,
  I16: 16,
  U16: 16,
  F16: 16,
  BF16: 16,
  I32: 32,
  U32: 32,
  F32: 32,
  C64: 64,
  F64: 64,
  I64: 64,
  U64: 64,
};

const RANK: ReadonlyMap<string, number> = new Map(DTYPES.map((d, i) => [d, i]));

export function isDtype(value: unknown): value is Dtype {
  return typeof value === "string" && RANK.has(value);
}

/** Bits per element (4 for F4, 6 for the F6 types, 8 for BOOL). */
export function dtypeBits(dtype: Dtype): number {
  return BITS[dtype];
}

/** Position in {@link DTYPES}; the writer orders tensors by this, descending. */
export function dtypeRank(dtype: Dtype): number {
  return RANK.get(dtype) ?? -1;
}

/** Throws `UnknownDtype` unless `value` is one of {@link DTYPES}. */
export function assertDtype(value: unknown, where: string): Dtype {
  if (isDtype(value)) return value;
  throw new FormatError(
    "UnknownDtype",
    `${where}: expected a dtype (one of ${DTYPES.join(", ")}), found ${typeof value === "string" ? JSON.stringify(value) : `${typeof value} ${String(value)}`}`,
  );
}

/**
 * Number of elements of `shape` and the byte length of such a tensor, checked the way the reference
 * does: `ValidationOverflow` when the element count or bit count exceeds 2^64 - 1, `MisalignedSlice`
 * when the bit count is not a whole number of bytes. BigInt, so nothing silently rounds.
 */
export function tensorByteLength(dtype: Dtype, shape: readonly (number | bigint)[], where: string): bigint {
  let elements = 1n;
  for (const dim of shape) {
    elements *= BigInt(dim);
    if (elements > U64_MAX) {
      throw new FormatError(
        "ValidationOverflow",
        `${where}: element count of shape [${shape.join(",")}] exceeds 2^64-1`,
      );
    }
  }
  const bits = elements * BigInt(BITS[dtype]);
  if (bits > U64_MAX) {
    throw new FormatError(
      "ValidationOverflow",
      `${where}: ${elements} elements x ${BITS[dtype]} bits of ${dtype} exceeds 2^64-1 bits`,
    );
  }
  if (bits % 8n !== 0n) {
    throw new FormatError(
      "MisalignedSlice",
      `${where}: ${elements} elements of ${dtype} take ${bits} bits, expected a whole number of bytes`,
    );
  }
  return bits / 8n;
}

export const U64_MAX = (1n << 64n) - 1n;
