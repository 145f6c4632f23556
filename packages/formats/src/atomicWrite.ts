/**
 * Node-only: the one place lowrank writes files and folders atomically (exported from
 * `@lowrank/formats/node`). Everything goes into a temporary sibling that is renamed into place at
 * the end, so a failure leaves the target as it was and no temporary file behind.
 */
import { randomBytes } from "node:crypto";
import { chmod, mkdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";

/** True when something (file or folder) exists at `path`. */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

function siblingTemp(target: string): string {
  const abs = resolve(target);
  return join(dirname(abs), `.${basename(abs)}.tmp-${randomBytes(6).toString("hex")}`);
}

/**
 * Fills a fresh temporary folder beside `dir`, then renames it to `dir`. An existing `dir` is
 * replaced as a whole (the caller decides beforehand whether that is allowed). The folder gets the
 * usual mode (umask decides), not mkdtemp's 0700. Errors from `fill` propagate unchanged.
 */
export async function replaceFolderAtomically(dir: string, fill: (tmp: string) => Promise<void>): Promise<void> {
  const tmp = siblingTemp(dir);
  await mkdir(dirname(tmp), { recursive: true });
  await mkdir(tmp);
  try {
    await fill(tmp);
    if (await pathExists(dir)) {
      const old = `${tmp}.old`;
      await rename(dir, old);
      try {
        await rename(tmp, dir);
      } catch (error) {
        await rename(old, dir);
        throw error;
      }
      await rm(old, { recursive: true, force: true });
    } else {
      await rename(tmp, dir);
    }
  } catch (error) {
    await rm(tmp, { recursive: true, force: true });
    throw error;
  }
}

/** Writes `bytes` to `file` through a temporary sibling and a rename; `mode` is set before the rename. */
export async function replaceFileAtomically(
  file: string,
  bytes: Uint8Array | string,
  options: { mode?: number } = {},
): Promise<void> {
  const tmp = siblingTemp(file);
  try {
    await writeFile(tmp, bytes, options.mode === undefined ? {} : { mode: options.mode });
    if (options.mode !== undefined) await chmod(tmp, options.mode);
    await rename(tmp, file);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
}
