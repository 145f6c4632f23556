import { realpath } from "node:fs/promises";
import path from "node:path";
import { RuntimeError } from "../backend/errors.js";
import { HttpError } from "./httpErrors.js";

/**
 * The real path of adapter folder `requested` (relative, as a client sends it) inside `root`, or a typed
 * error: 403 `Forbidden` without a root, for an absolute path, a `..` segment, or a path whose real
 * location (symlinks followed) is outside the root; 404 `NotFound` when nothing is there.
 */
export async function adapterFolder(root: string | undefined, requested: string, field = "path"): Promise<string> {
  if (root === undefined)
    throw new HttpError("Forbidden", `${field}: loading by path needs the server's adapters folder (--adapters)`);
  const segments = requested.split(/[\\/]+/);
  if (path.isAbsolute(requested) || /^[a-zA-Z]:/.test(requested) || segments.includes("..") || requested.includes("\0"))
    throw new HttpError(
      "Forbidden",
      `${field}: expected a folder relative to the adapters folder, found '${requested}' (absolute or with '..')`,
    );
  const realRoot = await realpath(root);
  const real = await realpath(path.join(realRoot, requested)).catch(() => {
    throw new RuntimeError("NotFound", `${field}: expected an adapter folder, found nothing at '${requested}'`);
  });
  if (real !== realRoot && !real.startsWith(realRoot + path.sep))
    throw new HttpError("Forbidden", `${field}: '${requested}' resolves outside the adapters folder`);
  return real;
}
