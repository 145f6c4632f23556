import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { z } from "zod";
import { DbError } from "./DbError.js";

/** Environment variables the database layer reads. Apps extend this schema in their own `env.ts`. */
export const dbEnvSchema = z.object({
  /** `postgres://user:pass@host:port/db`: use PostgreSQL. Unset: embedded PGlite. */
  DATABASE_URL: z
    .string()
    .trim()
    .min(1)
    .refine((v) => /^postgres(ql)?:\/\//.test(v), "DATABASE_URL must start with postgres:// or postgresql://")
    .optional(),
  /** Folder for local state (PGlite lives in `<dir>/pglite`). Relative paths resolve from the cwd. */
  LOWRANK_DATA_DIR: z.string().trim().min(1).optional(),
});

export interface DbEnv {
  databaseUrl: string | undefined;
  /** Absolute path of the data folder. */
  dataDir: string;
}

/**
 * Nearest ancestor of `from` (itself included) holding `pnpm-workspace.yaml`, else `from`.
 * The default data folder sits there, so the hub and the CLI share one database whatever the cwd.
 */
export function findRepoRoot(from: string = process.cwd()): string {
  let dir = resolve(/*turbopackIgnore: true*/ from);
  for (;;) {
    if (existsSync(join(dir, "pnpm-workspace.yaml"))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return resolve(/*turbopackIgnore: true*/ from);
    dir = parent;
  }
}

/** Default data folder: `<repo root>/.data`, or `<cwd>/.data` outside the repository. */
export function defaultDataDir(cwd: string = process.cwd()): string {
  return join(findRepoRoot(cwd), ".data");
}

/** Validate the database variables of `source` (default `process.env`). Throws `DbError("InvalidEnv")`. */
export function parseDbEnv(source: Record<string, string | undefined> = process.env): DbEnv {
  const parsed = dbEnvSchema.safeParse(source);
  if (!parsed.success) {
    const found = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new DbError("InvalidEnv", `expected valid database environment variables, found ${found}`);
  }
  const { DATABASE_URL, LOWRANK_DATA_DIR } = parsed.data;
  return {
    databaseUrl: DATABASE_URL,
    dataDir: LOWRANK_DATA_DIR ? resolve(LOWRANK_DATA_DIR) : defaultDataDir(),
  };
}
