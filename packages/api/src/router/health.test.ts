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

      it("tells anyone the kind of database that answered, never its location or server build", async () => {
        const caller = createCaller(createTRPCContext({ headers: new Headers(), database: handle }));
        const result = await caller.health();
        expect(result).toEqual({ ok: true, database: { kind: backend.kind }, time: expect.any(Date) });
        expect(JSON.stringify(result)).not.toContain(handle.location);
        await expect(caller.healthDetails()).rejects.toMatchObject({ code: "UNAUTHORIZED" });
      });

      it("reports the location and server version from a live select version() to a signed-in user", async () => {
        const session = { user: { id: "admin", name: "admin" } };
        const caller = createCaller(createTRPCContext({ headers: new Headers(), database: handle, session }));
        const before = Date.now();
        const result = await caller.healthDetails();
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
  it("answers SERVICE_UNAVAILABLE naming the kind of database, not its location", async () => {
    const { createDb } = await import("@lowrank/db");
    const handle = await createDb({ memory: true });
    await handle.close();
    const caller = createCaller(createTRPCContext({ headers: new Headers(), database: handle }));
    await expect(caller.health()).rejects.toMatchObject({
      code: "SERVICE_UNAVAILABLE",
      message: "expected the pglite database to answer select version(), found no answer",
    });
  });
});
