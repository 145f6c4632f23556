import { FormatError } from "../errors.js";

/** Bytes of the little-endian u64 that starts every safetensors file. */
export const LENGTH_PREFIX_BYTES = 8;
/** The reference refuses headers longer than this (100 MB). */
export const MAX_HEADER_BYTES = 100_000_000;

/**
 * Reads and checks the header length from the first bytes of a file of `fileSize` bytes:
 * `HeaderTooSmall` under 8 bytes, `HeaderTooLarge` over 100,000,000, `InvalidHeaderLength` when
 * the header would run past the end of the file.
 */
export function readHeaderLength(prefix: Uint8Array, fileSize: number): number {
  if (fileSize < LENGTH_PREFIX_BYTES || prefix.length < LENGTH_PREFIX_BYTES) {
    throw new FormatError(
      "HeaderTooSmall",
      `safetensors: expected at least 8 bytes (the header length), found ${fileSize}`,
    );
  }
  const n = new DataView(prefix.buffer, prefix.byteOffset, LENGTH_PREFIX_BYTES).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES)) {
    throw new FormatError(
      "HeaderTooLarge",
      `safetensors: expected a header of at most ${MAX_HEADER_BYTES} bytes, found a length of ${n}`,
    );
  }
  const length = Number(n);
  if (LENGTH_PREFIX_BYTES + length > fileSize) {
    throw new FormatError(
      "InvalidHeaderLength",
      `safetensors: expected ${length} header bytes after the length, found ${fileSize - LENGTH_PREFIX_BYTES}`,
    );
  }
  return length;
}

/** `MetadataIncompleteBuffer` unless header + data exactly fill the file. */
export function checkDataLength(headerLength: number, dataByteLength: number, fileSize: number): void {
  const expected = LENGTH_PREFIX_BYTES + headerLength + dataByteLength;
  if (expected !== fileSize) {
    throw new FormatError(
      "MetadataIncompleteBuffer",
      `safetensors: expected ${expected} bytes (8 + ${headerLength} header + ${dataByteLength} data), found ${fileSize}`,
    );
  }
}
