import { resolve } from "node:path";
import { createDb, type DbHandle, defaultDataDir, migrate } from "@lowrank/db";
import { parseHubEnv } from "../env.js";

// One database per server process. Kept on globalThis so dev-mode module reloads reuse it
// (a second PGlite on the same folder would fight over its files).
const store = globalThis as typeof globalThis & { __lowrankDatabase?: Promise<DbHandle> };

async function open(): Promise<DbHandle> {
  const env = parseHubEnv();
  const handle = await createDb(
    env.DATABASE_URL
      ? { url: env.DATABASE_URL }
      : { dataDir: env.LOWRANK_DATA_DIR ? resolve(env.LOWRANK_DATA_DIR) : defaultDataDir() },
  );
  try {
    await migrate(handle.db);
  } catch (error) {
    await handle.close();
    throw error;
  }
  return handle;
}

/** The process-wide database, opened and migrated on first use. A failed open is retried on the next call. */
export function getDatabase(): Promise<DbHandle> {
  if (!store.__lowrankDatabase) {
    const opening = open();
    store.__lowrankDatabase = opening;
    opening.catch(() => {
      if (store.__lowrankDatabase === opening) store.__lowrankDatabase = undefined;
    });
  }
  return store.__lowrankDatabase;
}

/** Close the process-wide database (tests, shutdown). The next `getDatabase()` opens it again. */
export async function closeDatabase(): Promise<void> {
  const opening = store.__lowrankDatabase;
  store.__lowrankDatabase = undefined;
  if (opening) await (await opening).close();
}
