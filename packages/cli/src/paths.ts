import path from "node:path";

/**
 * Where the hub and CLI keep their state. `LOWRANK_DATA_DIR` (default `./.data`) holds the embedded
 * PGlite database (`pglite/`) and the blob store (`blobs/`); `DATABASE_URL` switches to PostgreSQL.
 */
export function dataLocations(env: NodeJS.ProcessEnv = process.env) {
  const dataDir = path.resolve(env.LOWRANK_DATA_DIR ?? ".data");
  const url = env.DATABASE_URL;
  const database = url
    ? { kind: "postgres" as const, location: redact(url) }
    : { kind: "pglite" as const, location: path.join(dataDir, "pglite") };
  return { dataDir, database, blobs: { kind: "files" as const, location: path.join(dataDir, "blobs") } };
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "(unparseable DATABASE_URL)";
  }
}
