import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import { DbError } from "./DbError.js";
import { parseDbEnv } from "./env.js";
import * as schema from "./schema.js";

export type Schema = typeof schema;
/** The drizzle database, whichever driver is behind it. */
export type Database = PgDatabase<PgQueryResultHKT, Schema>;
export type DbKind = "pglite" | "postgres";

export interface DbHandle {
  db: Database;
  kind: DbKind;
  /** Where the data lives: the PGlite folder, `memory://`, or the PostgreSQL URL without its password. */
  location: string;
  close(): Promise<void>;
}

export interface CreateDbOptions {
  /** PostgreSQL URL. Wins over `dataDir`. */
  url?: string;
  /** Data folder; PGlite keeps its files in `<dataDir>/pglite`. */
  dataDir?: string;
  /** In-memory PGlite (nothing written to disk). For tests and throwaway runs. */
  memory?: boolean;
}

/**
 * Open the hub database. With `url` (or `DATABASE_URL` when no option is given) it connects to
 * PostgreSQL through the `postgres` driver; otherwise it opens PGlite in `<dataDir>/pglite`
 * (default data folder from `parseDbEnv`), which survives restarts. Run `migrate(db)` before use.
 */
export async function createDb(options: CreateDbOptions = {}): Promise<DbHandle> {
  const useEnv = options.url === undefined && options.dataDir === undefined && !options.memory;
  const env = useEnv ? parseDbEnv() : undefined;
  const url = options.url ?? env?.databaseUrl;
  if (url !== undefined) return openPostgres(url);
  if (options.memory) return openPglite(undefined);
  // The data folder is chosen at run time: keep bundlers from tracing the whole project for it.
  const dataDir = resolve(/*turbopackIgnore: true*/ options.dataDir ?? env?.dataDir ?? parseDbEnv().dataDir);
  return openPglite(join(dataDir, "pglite"));
}

async function openPglite(folder: string | undefined): Promise<DbHandle> {
  if (folder !== undefined) mkdirSync(folder, { recursive: true });
  const client = await PGlite.create(folder === undefined ? {} : { dataDir: folder });
  const db = drizzlePglite({ client, schema });
  return {
    db,
    kind: "pglite",
    location: folder ?? "memory://",
    close: () => client.close(),
  };
}

function openPostgres(url: string): DbHandle {
  const location = redactUrl(url);
  const client = postgres(url, { max: 10, onnotice: () => {} });
  const db = drizzlePostgres({ client, schema });
  return {
    db,
    kind: "postgres",
    location,
    close: () => client.end({ timeout: 5 }),
  };
}

/** The URL without its password (and without query parameters, which may carry secrets). */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw new DbError("InvalidDatabaseUrl", `expected a postgres:// URL, found an unparsable string`, { cause });
  }
  if (parsed.protocol !== "postgres:" && parsed.protocol !== "postgresql:") {
    throw new DbError("InvalidDatabaseUrl", `expected protocol postgres: or postgresql:, found ${parsed.protocol}`);
  }
  const user = parsed.username ? `${decodeURIComponent(parsed.username)}@` : "";
  return `${parsed.protocol}//${user}${parsed.host}${parsed.pathname}`;
}
