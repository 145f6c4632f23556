import { skipWithoutService, titleWithReason } from "@lowrank/test-services/skip";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DbHandle } from "./client.js";
import { migrate } from "./migrate.js";
import { adapters, adapterVersions } from "./schema.js";
import { serverVersion } from "./serverVersion.js";
import { insertTestOwnerAndBase, testBackends } from "./testing.js";

const digest = (c: string) => c.repeat(64);

// One suite, run against every backend.
for (const backend of testBackends) {
  describe.skipIf(skipWithoutService(backend.missingReason))(
    titleWithReason(`db on ${backend.kind}`, backend.missingReason),
    () => {
      let handle: DbHandle;
      let dispose: () => Promise<void>;
      let owner: { ownerId: string; baseId: string; baseDigest: string };

      beforeAll(async () => {
        ({ handle, dispose } = await backend.open());
        await migrate(handle.db);
        const t = await insertTestOwnerAndBase(handle.db);
        owner = { ownerId: t.userId, baseId: t.baseId, baseDigest: t.baseDigest };
      });
      afterAll(async () => dispose?.());

      it("reports its kind and answers select version()", async () => {
        expect(handle.kind).toBe(backend.kind);
        expect(await serverVersion(handle.db)).toMatch(/^PostgreSQL \d+/);
      });

      it("applied the migration once, and a second migrate is a no-op", async () => {
        await migrate(handle.db);
        const rows = await handle.db.execute(sql`select count(*)::int as n from drizzle.__drizzle_migrations`);
        const list = Array.isArray(rows) ? rows : (rows as { rows: unknown[] }).rows;
        expect(list).toEqual([{ n: 2 }]);
      });

      it("stores an adapter with versions and reads them back joined", async () => {
        const [adapter] = await handle.db
          .insert(adapters)
          .values({ owner: "alice", name: "sst2-sentiment", baseModel: "distilgpt2", ...owner })
          .returning();
        expect(adapter?.description).toBe("");
        expect(adapter?.createdAt).toBeInstanceOf(Date);
        await handle.db.insert(adapterVersions).values([
          {
            adapterId: adapter!.id,
            version: "v1",
            digest: digest("a"),
            rank: 8,
            alpha: 16,
            targetModules: ["c_attn"],
            sizeBytes: 1234,
          },
          {
            adapterId: adapter!.id,
            version: "v2",
            digest: digest("b"),
            rank: 4,
            alpha: 8,
            targetModules: ["c_attn", "c_proj"],
            sizeBytes: 99,
          },
        ]);
        const rows = await handle.db
          .select({
            name: adapters.name,
            version: adapterVersions.version,
            rank: adapterVersions.rank,
            modules: adapterVersions.targetModules,
          })
          .from(adapterVersions)
          .innerJoin(adapters, eq(adapters.id, adapterVersions.adapterId))
          .orderBy(adapterVersions.version);
        expect(rows).toEqual([
          { name: "sst2-sentiment", version: "v1", rank: 8, modules: ["c_attn"] },
          { name: "sst2-sentiment", version: "v2", rank: 4, modules: ["c_attn", "c_proj"] },
        ]);
      });

      it("rejects a second version with the same digest, and a duplicate owner/name", async () => {
        const [other] = await handle.db
          .insert(adapters)
          .values({ owner: "bob", name: "other", baseModel: "gpt2", ...owner })
          .returning();
        await expect(
          handle.db.insert(adapterVersions).values({
            adapterId: other!.id,
            version: "v1",
            digest: digest("a"),
            rank: 2,
            alpha: 2,
            targetModules: ["q"],
            sizeBytes: 1,
          }),
        ).rejects.toThrow();
        await expect(
          handle.db.insert(adapters).values({ owner: "bob", name: "other", baseModel: "gpt2", ...owner }),
        ).rejects.toThrow();
      });

      it("deletes an adapter's versions with it", async () => {
        await handle.db.delete(adapters).where(eq(adapters.name, "sst2-sentiment"));
        const left = await handle.db.select({ digest: adapterVersions.digest }).from(adapterVersions);
        expect(left).toEqual([]);
      });
    },
  );
}
