import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { is } from "drizzle-orm";
import { PgliteDatabase } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import { PostgresJsDatabase } from "drizzle-orm/postgres-js";
import { migrate as migratePostgres } from "drizzle-orm/postgres-js/migrator";
import type { Database } from "./client.js";
import { DbError } from "./DbError.js";

/** The committed migrations folder (`packages/db/migrations`, written by `drizzle-kit generate`). */
export function migrationsFolder(): string {
  // Path arithmetic rather than `new URL("../migrations", import.meta.url)`: bundlers treat that
  // pattern as an asset import and fail on a folder.
  return join(dirname(fileURLToPath(import.meta.url)), "..", "migrations");
}

export interface MigrateOptions {
  /** Override the folder, for bundlers that move this file away from `migrations/`. */
  migrationsFolder?: string;
}

/** Apply every pending migration with the migrator that matches the driver behind `db`. Idempotent. */
export async function migrate(db: Database, options: MigrateOptions = {}): Promise<void> {
  const config = { migrationsFolder: options.migrationsFolder ?? migrationsFolder() };
  try {
    if (is(db, PgliteDatabase)) return await migratePglite(db, config);
    if (is(db, PostgresJsDatabase)) return await migratePostgres(db, config);
  } catch (cause) {
    const found = cause instanceof Error ? cause.message : String(cause);
    throw new DbError(
      "MigrationFailed",
      `expected migrations in ${config.migrationsFolder} to apply, found: ${found}`,
      {
        cause,
      },
    );
  }
  throw new DbError("UnknownDriver", `expected a PGlite or postgres-js drizzle database, found ${db.constructor.name}`);
}
