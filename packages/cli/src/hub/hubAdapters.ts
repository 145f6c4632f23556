import { existsSync } from "node:fs";
import { mkdir, rename, rm } from "node:fs/promises";
import path from "node:path";
import { pull } from "../commands/pull.js";
import { CliError } from "../errors.js";
import type { CliIO } from "../output.js";

const REF = /^[a-z0-9][a-z0-9._-]*\/[a-z0-9][a-z0-9._-]*(?:@[A-Za-z0-9][A-Za-z0-9._-]{0,63})?$/;

/**
 * For `lowrank serve --hub URL`: turns `owner/name[@version]` into a local PEFT folder, pulled from the
 * hub once and kept under `<cacheDir>/<digest>` (the version digest: the same bytes are never fetched
 * twice, whatever name they were asked by). Other names resolve to nothing.
 */
export function hubAdapterResolver(
  io: CliIO,
  hub: string,
  cacheDir: string,
): (name: string) => Promise<string | undefined> {
  return async (name) => {
    if (!REF.test(name)) return undefined;
    const [repo, version] = name.split("@") as [string, string | undefined];
    const response = await fetch(`${hub}/api/models/${repo}/revision/${encodeURIComponent(version ?? "main")}`).catch(
      () => null,
    );
    if (!response?.ok) throw new CliError(`${name}: not found on ${hub}`, "NotFound");
    const digest = ((await response.json()) as { lowrank?: { digest?: string } }).lowrank?.digest;
    if (!digest || !/^[0-9a-f]{64}$/.test(digest))
      throw new CliError(`${hub} is not a lowrank hub (no version digest for ${name})`, "NotAHub");
    const folder = path.join(cacheDir, digest);
    if (existsSync(path.join(folder, "adapter_model.safetensors"))) return folder;
    await mkdir(cacheDir, { recursive: true });
    const tmp = path.join(cacheDir, `.${digest}.${process.pid}.tmp`);
    try {
      await pull(io, { ref: version ? `${repo}@${version}` : repo, out: tmp, hub });
      await rename(tmp, folder).catch(async (error: NodeJS.ErrnoException) => {
        if (!existsSync(folder)) throw error; // another request finished the same digest first
      });
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
    return folder;
  };
}
