import type { DbHandle } from "@lowrank/db";
import { migrate } from "@lowrank/db";
import { TEST_PASSWORD, testBackends } from "@lowrank/db/testing";
import { skipWithoutService, titleWithReason } from "@lowrank/test-services/skip";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCaller } from "../root.js";
import { createTRPCContext } from "../trpc.js";

for (const backend of testBackends) {
  describe.skipIf(skipWithoutService(backend.missingReason))(
    titleWithReason(`health on ${backend.kind}`, backend.missingReason),
    () => {
      let handle: DbHandle;
      let dispose: () => Promise<void>;
      beforeAll(async () => {
        ({ handle, dispose } = await backend.open());
        await migrate(handle.db);
      });
      afterAll(async () => dispose?.());

      it("reports the database in use from a live select version()", async () => {
        const caller = createCaller(createTRPCContext({ headers: new Headers(), database: handle }));
        const before = Date.now();
        const result = await caller.health();
        expect(result.ok).toBe(true);
        expect(result.database.kind).toBe(backend.kind);
        expect(result.database.location).toBe(handle.location);
        expect(result.database.location).not.toContain(TEST_PASSWORD);
        expect(result.database.serverVersion).toMatch(/^PostgreSQL \d+/);
        expect(result.time).toBeInstanceOf(Date);
        expect(result.time.getTime()).toBeGreaterThanOrEqual(before);
      });

      if (backend.kind === "postgres") {
        it("names the PostgreSQL user and host in location, without the password", () => {
          expect(handle.location).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/);
        });
      }
    },
  );
}

describe("health when the database is gone", () => {
  it("answers SERVICE_UNAVAILABLE naming the database", async () => {
    const { createDb } = await import("@lowrank/db");
    const handle = await createDb({ memory: true });
    await handle.close();
    const caller = createCaller(createTRPCContext({ headers: new Headers(), database: handle }));
    await expect(caller.health()).rejects.toMatchObject({
      code: "SERVICE_UNAVAILABLE",
      message: expect.stringContaining("memory://"),
    });
  });
});
