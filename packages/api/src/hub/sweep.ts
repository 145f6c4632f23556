import { bases, rows, sql, versionFiles } from "@lowrank/db";
import type { HubServices } from "./HubServices.js";

/** Every blob digest some row refers to: version files and base weight files. */
export async function referencedBlobs(hub: HubServices): Promise<Set<string>> {
  const { db } = hub.database;
  const files = await db.selectDistinct({ sha256: versionFiles.sha256 }).from(versionFiles);
  const weights = rows<{ sha256: string }>(
    await db.execute(
      sql`select distinct w->>'sha256' as sha256 from ${bases}, jsonb_array_elements(${bases.weightFiles}) w`,
    ),
  );
  return new Set([...files.map((f) => f.sha256), ...weights.map((w) => w.sha256)]);
}

/**
 * Removes what an interrupted upload or publish left: temporary files, and blobs no row refers to
 * that are older than `minAgeMs` (younger ones may belong to a publish still in flight: an upload
 * comes before the publish that names it). Returns how many of each went.
 */
export async function sweepOrphans(
  hub: HubServices,
  options: { minAgeMs?: number } = {},
): Promise<{ temporary: number; orphans: number }> {
  const temporary = await hub.blobs.recover();
  const keep = await referencedBlobs(hub);
  const cutoff = Date.now() - (options.minAgeMs ?? 60 * 60 * 1000);
  let orphans = 0;
  for await (const blob of hub.blobs.list()) {
    if (keep.has(blob.sha256) || blob.modified.getTime() > cutoff) continue;
    await hub.blobs.delete(blob.sha256);
    orphans++;
  }
  return { temporary, orphans };
}
