/**
 * Node-only entry point (`@lowrank/formats/node`): safetensors files on disk through file handles.
 * Everything else in the package works on bytes and runs in browsers too.
 */
import { type FileHandle, open, readFile } from "node:fs/promises";
import { FormatError, type Result, toResultAsync } from "../errors.js";
import { type ByteSource, LazySafetensors } from "./LazySafetensors.js";
import { parseSafetensors } from "./parseSafetensors.js";
import type { SafetensorsFile } from "./SafetensorsFile.js";
import { prepareSafetensors, type TensorInputs } from "./serializeSafetensors.js";

function ioError(action: string, path: string, cause: unknown): FormatError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new FormatError("IoError", `${action} ${path}: expected a readable file, found an error (${reason})`, {
    cause,
  });
}

/** A file handle as a {@link ByteSource}. */
export async function fileSource(path: string): Promise<ByteSource> {
  let handle: FileHandle;
  let size: number;
  try {
    handle = await open(path, "r");
  } catch (cause) {
    throw ioError("open", path, cause);
  }
  try {
    size = (await handle.stat()).size;
  } catch (cause) {
    await handle.close();
    throw ioError("stat", path, cause);
  }
  return {
    size,
    async read(offset, length) {
      const buf = new Uint8Array(length);
      let got = 0;
      while (got < length) {
        const { bytesRead } = await handle.read(buf, got, length - got, offset + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      return got === length ? buf : buf.subarray(0, got);
    },
    close: () => handle.close(),
  };
}

/**
 * Opens a safetensors file lazily: reads the 8-byte length and the header only (one read for
 * headers under 64 KiB); `readTensor` then reads just that tensor. Close it when done.
 */
export async function openSafetensors(path: string): Promise<LazySafetensors> {
  return LazySafetensors.open(await fileSource(path));
}

/** {@link openSafetensors} that returns `{ ok: false, error }` instead of throwing. */
export function safeOpenSafetensors(path: string): Promise<Result<LazySafetensors>> {
  return toResultAsync(() => openSafetensors(path));
}

/** Reads a whole file into memory and parses it (tensors are views into that one buffer). */
export async function readSafetensorsFile(path: string): Promise<SafetensorsFile> {
  let buf: Uint8Array;
  try {
    buf = await readFile(path);
  } catch (cause) {
    throw ioError("read", path, cause);
  }
  return parseSafetensors(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength));
}

/** Writes tensors straight to `path` (no second copy of the data in memory); same bytes as `serializeSafetensors`. */
export async function writeSafetensorsFile(
  path: string,
  tensors: TensorInputs,
  metadata?: Readonly<Record<string, string>> | null,
): Promise<void> {
  const { prefix, order } = prepareSafetensors(tensors, metadata);
  let handle: FileHandle | undefined;
  try {
    handle = await open(path, "w");
    await writeAll(handle, prefix);
    for (const [, data] of order) await writeAll(handle, data);
  } catch (cause) {
    throw ioError("write", path, cause);
  } finally {
    await handle?.close();
  }
}

async function writeAll(handle: FileHandle, data: Uint8Array): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const { bytesWritten } = await handle.write(data, done, data.length - done);
    done += bytesWritten;
  }
}

export { pathExists, replaceFileAtomically, replaceFolderAtomically } from "../atomicWrite.js";
export { openGgufFile } from "../gguf/node.js";
export { readBaseManifest } from "../manifest/node.js";
export { readPeftFolder, writePeftFolder } from "../peft/node.js";
export { LazySafetensors } from "./LazySafetensors.js";
