import { sql } from "drizzle-orm";
import type { Database } from "./client.js";

/** `select version()` on the live connection: proves the database answers, and says which server it is. */
export async function serverVersion(db: Database): Promise<string> {
  const result: unknown = await db.execute(sql`select version() as version`);
  // postgres-js returns the rows as an array; PGlite returns `{ rows }`.
  const rows = Array.isArray(result) ? result : (result as { rows: unknown[] }).rows;
  const first = rows[0] as { version?: unknown } | undefined;
  if (typeof first?.version !== "string") throw new Error("select version() returned no row");
  return first.version;
}
