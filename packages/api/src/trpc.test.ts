import { createDb, type DbHandle } from "@lowrank/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authedProcedure, createTRPCContext, createTRPCRouter } from "./trpc.js";

describe("authedProcedure", () => {
  const router = createTRPCRouter({ whoami: authedProcedure.query(({ ctx }) => ctx.session.user.name) });
  let database: DbHandle;
  beforeAll(async () => {
    database = await createDb({ memory: true });
  });
  afterAll(async () => database.close());

  it("refuses a context without a session", async () => {
    const caller = router.createCaller(createTRPCContext({ headers: new Headers(), database }));
    await expect(caller.whoami()).rejects.toMatchObject({ code: "UNAUTHORIZED" });
  });

  it("passes the session through when there is one", async () => {
    const session = { user: { id: "u1", name: "alice" } };
    const caller = router.createCaller(createTRPCContext({ headers: new Headers(), database, session }));
    expect(await caller.whoami()).toBe("alice");
  });
});
