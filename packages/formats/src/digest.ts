import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { FormatError } from "./errors.js";
import { compareCodePoints } from "./safetensors/serializeSafetensors.js";

/** Lowercase hex sha256 of `bytes` (pure JS: same result in Node and browsers). */
export function sha256Hex(bytes: Uint8Array): string {
  return bytesToHex(sha256(bytes));
}

/**
 * The canonical listing an adapter digest is computed over: one line per file,
 * `<sha256 hex>  <name>\n` (the `sha256sum` format), sorted by name in code point order.
 * Names must be non-empty and free of line breaks and NUL, so the listing is unambiguous.
 */
export function adapterDigestManifest(files: Readonly<Record<string, Uint8Array>>): string {
  const names = Object.keys(files).sort(compareCodePoints);
  let out = "";
  for (const name of names) {
    if (name.length === 0 || /[\n\r\0]/.test(name)) {
      throw new FormatError(
        "InvalidConfig",
        `adapter digest: expected file names without line breaks or NUL, found ${JSON.stringify(name)}`,
      );
    }
    out += `${sha256Hex(files[name] as Uint8Array)}  ${name}\n`;
  }
  return out;
}

/**
 * One digest for an adapter's files: sha256 over {@link adapterDigestManifest}. It depends only on
 * the names and contents, not on insertion order, so writing the same adapter again (with the
 * deterministic writers) gives the same digest. Reproducible with `sha256sum * | sort -k2 | sha256sum`
 * for ASCII names.
 */
export function adapterDigest(files: Readonly<Record<string, Uint8Array>>): string {
  return sha256Hex(new TextEncoder().encode(adapterDigestManifest(files)));
}
