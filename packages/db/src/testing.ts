import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { postgresMissingReason, startPostgres } from "@lowrank/test-services/postgres";
import { createDb, type DbHandle, type DbKind } from "./client.js";

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
      const dataDir = mkdtempSync(join(tmpdir(), "lowrank-db-"));
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
