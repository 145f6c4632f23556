import { existsSync } from "node:fs";
import path from "node:path";

/** Nearest folder at or above `from` holding `pnpm-workspace.yaml`, else `from` (as the hub does). */
function workspaceRoot(from: string): string {
  for (let dir = path.resolve(from); ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, "pnpm-workspace.yaml"))) return dir;
    if (path.dirname(dir) === dir) return path.resolve(from);
  }
}

/**
 * Where the hub and CLI keep their state, resolved exactly as the hub resolves it:
 * `LOWRANK_DATA_DIR` (default `<workspace root or cwd>/.data`) holds the embedded PGlite database
 * (`pglite/`) and the hub's blob store (`blobs/`); `DATABASE_URL` switches to PostgreSQL and
 * `LOWRANK_S3_BUCKET` (with `LOWRANK_S3_PREFIX`) the blobs to an S3 bucket, as in the hub.
 */
export function dataLocations(env: NodeJS.ProcessEnv = process.env, cwd: string = process.cwd()) {
  const dataDir = env.LOWRANK_DATA_DIR
    ? path.resolve(cwd, env.LOWRANK_DATA_DIR)
    : path.join(workspaceRoot(cwd), ".data");
  const url = env.DATABASE_URL;
  const database = url
    ? { kind: "postgres" as const, location: redact(url) }
    : { kind: "pglite" as const, location: path.join(dataDir, "pglite") };
  const bucket = env.LOWRANK_S3_BUCKET;
  const prefix = env.LOWRANK_S3_PREFIX ? `${env.LOWRANK_S3_PREFIX.replace(/\/+$/, "")}/` : "";
  const blobs = bucket
    ? { kind: "s3" as const, location: `s3://${bucket}/${prefix}` }
    : { kind: "files" as const, location: path.join(dataDir, "blobs") };
  return { dataDir, database, blobs };
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
