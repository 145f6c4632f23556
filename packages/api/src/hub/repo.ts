import {
  type Adapter,
  type AdapterVersion,
  adapters,
  adapterVersions,
  and,
  type Database,
  desc,
  eq,
  sql,
  type VersionFile,
  versionFiles,
} from "@lowrank/db";

/** The 40-hex "commit" Hugging Face clients expect for a revision: the first 40 hex of the version digest. */
export const commitOf = (digest: string) => digest.slice(0, 40);

export type RepoLookup =
  | { kind: "repo-not-found" }
  | { kind: "revision-not-found"; adapter: Adapter }
  | { kind: "ok"; adapter: Adapter; version: AdapterVersion; files: VersionFile[] };

/**
 * An adapter and one of its versions: `main` / `HEAD` / none is the latest, a 40-hex string is a
 * commit (digest prefix), anything else a version label.
 */
export async function lookupRepo(db: Database, owner: string, name: string, rev?: string): Promise<RepoLookup> {
  const [adapter] = await db
    .select()
    .from(adapters)
    .where(and(eq(adapters.owner, owner), eq(adapters.name, name)));
  if (!adapter?.latestVersionId) return { kind: "repo-not-found" };
  const byRev =
    rev === undefined || rev === "main" || rev === "HEAD"
      ? eq(adapterVersions.id, adapter.latestVersionId)
      : /^[0-9a-f]{40}$/.test(rev)
        ? sql`left(${adapterVersions.digest}, 40) = ${rev}`
        : /^[0-9a-f]{64}$/.test(rev)
          ? eq(adapterVersions.digest, rev)
          : eq(adapterVersions.version, rev);
  const [version] = await db
    .select()
    .from(adapterVersions)
    .where(and(eq(adapterVersions.adapterId, adapter.id), byRev))
    .orderBy(desc(adapterVersions.createdAt))
    .limit(1);
  if (!version) return { kind: "revision-not-found", adapter };
  const files = await db
    .select()
    .from(versionFiles)
    .where(eq(versionFiles.versionId, version.id))
    .orderBy(versionFiles.path);
  return { kind: "ok", adapter, version, files };
}
