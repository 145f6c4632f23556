import { type Result, toResult } from "../errors.js";
import { checkDataLength, LENGTH_PREFIX_BYTES, readHeaderLength } from "./headerLength.js";
import { parseSafetensorsHeader } from "./parseSafetensorsHeader.js";
import { SafetensorsFile } from "./SafetensorsFile.js";

/**
 * Parses a complete safetensors file held in memory. Throws a `FormatError` (codes named after the
 * reference implementation's errors) when any rule is broken. Copies nothing: tensors are views.
 */
export function parseSafetensors(bytes: Uint8Array): SafetensorsFile {
  const n = readHeaderLength(bytes, bytes.length);
  const end = LENGTH_PREFIX_BYTES + n;
  const header = parseSafetensorsHeader(bytes.subarray(LENGTH_PREFIX_BYTES, end));
  checkDataLength(n, header.dataByteLength, bytes.length);
  const plain = new Uint8Array(bytes.buffer, bytes.byteOffset + end, bytes.length - end);
  return new SafetensorsFile(header, n, plain);
}

/** {@link parseSafetensors} that returns `{ ok: false, error }` instead of throwing. */
export function safeParseSafetensors(bytes: Uint8Array): Result<SafetensorsFile> {
  return toResult(() => parseSafetensors(bytes));
}
