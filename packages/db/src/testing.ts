import { createHash } from "node:crypto";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { postgresMissingReason, startPostgres } from "@lowrank/test-services/postgres";
import { createDb, type DbHandle, type DbKind } from "./client.js";
import { migrate, migrationsFolder } from "./migrate.js";

/**
 * Password put into the test PostgreSQL URL. The throwaway server trusts every local login, so the
 * password is ignored there; it exists so tests can check it never leaks into `location`.
 */
export const TEST_PASSWORD = "not-a-real-secret";

/** A database a conformance suite can run against. Test-only: imports the PostgreSQL starter. */
export interface TestBackend {
  kind: DbKind;
  /** Why this backend cannot run here; undefined when it can. */
  missingReason: string | undefined;
  /** A fresh, empty database (not yet migrated) and a way to throw it away. */
  open(): Promise<{ handle: DbHandle; dispose(): Promise<void> }>;
}

/** PGlite in a temp folder, and a real PostgreSQL started for the suite. */
export const testBackends: readonly TestBackend[] = [
  {
    kind: "pglite",
    missingReason: undefined,
    async open() {
      const dataDir = await migratedPgliteDir();
      const handle = await createDb({ dataDir });
      return {
        handle,
        async dispose() {
          await handle.close();
          rmSync(dataDir, { recursive: true, force: true });
        },
      };
    },
  },
  {
    kind: "postgres",
    missingReason: postgresMissingReason(),
    async open() {
      const server = await startPostgres();
      const handle = await createDb({ url: server.url.replace("//postgres@", `//postgres:${TEST_PASSWORD}@`) });
      return {
        handle,
        async dispose() {
          await handle.close();
          await server.stop();
        },
      };
    },
  },
];

/** A user and a base model to hang test adapters on (adapters need both). */
export async function insertTestOwnerAndBase(
  db: import("./client.js").Database,
  suffix = "",
): Promise<{ userId: string; baseId: string; baseDigest: string }> {
  const { bases, user } = await import("./schema.js");
  const userId = `test-user${suffix}`;
  await db
    .insert(user)
    .values({ id: userId, name: "Test", email: `test${suffix}@example.com`, username: `test${suffix}` });
  const baseDigest = "0".repeat(64);
  const [base] = await db
    .insert(bases)
    .values({
      name: `test-base${suffix}`,
      architecture: "GPT2LMHeadModel",
      modelType: "gpt2",
      config: {},
      manifest: {},
      manifestDigest: baseDigest,
    })
    .returning({ id: bases.id });
  return { userId, baseId: base!.id, baseDigest };
}

let template: Promise<string> | undefined;

/**
 * A fresh data folder holding a migrated PGlite database: a copy of a template made once per
 * migrations version (kept in the temp folder across runs), since initdb plus migrations costs
 * seconds on two cores and a copy costs milliseconds.
 */
export async function migratedPgliteDir(): Promise<string> {
  template ??= makeTemplate();
  const source = await template;
  const dataDir = mkdtempSync(join(tmpdir(), "lowrank-db-"));
  cpSync(join(source, "pglite"), join(dataDir, "pglite"), { recursive: true });
  return dataDir;
}

async function makeTemplate(): Promise<string> {
  const hash = createHash("sha256");
  const folder = migrationsFolder();
  for (const name of readdirSync(folder).sort())
    if (name.endsWith(".sql")) hash.update(readFileSync(join(folder, name)));
  const dir = join(tmpdir(), `lowrank-pglite-template-${hash.digest("hex").slice(0, 16)}`);
  if (existsSync(join(dir, "READY"))) return dir;
  const building = mkdtempSync(join(tmpdir(), "lowrank-pglite-building-"));
  const handle = await createDb({ dataDir: building });
  await migrate(handle.db);
  await handle.close();
  writeFileSync(join(building, "READY"), "");
  try {
    renameSync(building, dir);
  } catch {
    // Another process finished the same template first: use theirs.
    rmSync(building, { recursive: true, force: true });
  }
  return dir;
}
