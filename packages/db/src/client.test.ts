import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createDb, redactUrl } from "./client.js";
import { migrate } from "./migrate.js";
import { adapters } from "./schema.js";
import { serverVersion } from "./serverVersion.js";
import { insertTestOwnerAndBase } from "./testing.js";

describe("createDb with PGlite", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "lowrank-db-persist-"));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it("keeps rows in <dataDir>/pglite across a close and a reopen", async () => {
    const first = await createDb({ dataDir });
    expect(first.kind).toBe("pglite");
    expect(first.location).toBe(join(dataDir, "pglite"));
    await migrate(first.db);
    const { userId, baseId, baseDigest } = await insertTestOwnerAndBase(first.db);
    await first.db
      .insert(adapters)
      .values({ owner: "carol", name: "persisted", baseModel: "gpt2", ownerId: userId, baseId, baseDigest });
    await first.close();
    expect(existsSync(join(dataDir, "pglite", "PG_VERSION"))).toBe(true);

    const second = await createDb({ dataDir });
    await migrate(second.db); // already applied: must not fail or duplicate anything
    const rows = await second.db.select({ owner: adapters.owner, name: adapters.name }).from(adapters);
    await second.close();
    expect(rows).toEqual([{ owner: "carol", name: "persisted" }]);
  });

  it("opens in memory without touching disk", async () => {
    const handle = await createDb({ memory: true });
    try {
      expect(handle.location).toBe("memory://");
      await migrate(handle.db);
      expect(await handle.db.select().from(adapters)).toEqual([]);
      expect(await serverVersion(handle.db)).toMatch(/^PostgreSQL/);
      await expect(migrate(handle.db, { migrationsFolder: "/nonexistent/migrations" })).rejects.toMatchObject({
        code: "MigrationFailed",
        message: expect.stringContaining("/nonexistent/migrations"),
      });
    } finally {
      await handle.close();
    }
  });
});

describe("redactUrl", () => {
  it("drops the password and query string, keeps user, host, port and database", () => {
    expect(redactUrl("postgres://hub:s3cret@db.internal:6543/lowrank?sslmode=require")).toBe(
      "postgres://hub@db.internal:6543/lowrank",
    );
    expect(redactUrl("postgresql://127.0.0.1/x")).toBe("postgresql://127.0.0.1/x");
  });

  it("rejects other protocols and garbage with code InvalidDatabaseUrl", () => {
    expect(() => redactUrl("mysql://a@b/c")).toThrow(expect.objectContaining({ code: "InvalidDatabaseUrl" }));
    expect(() => redactUrl("not a url")).toThrow(expect.objectContaining({ code: "InvalidDatabaseUrl" }));
  });
});
