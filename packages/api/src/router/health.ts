import { serverVersion } from "@lowrank/db";
import { TRPCError } from "@trpc/server";
import { authedProcedure, type Context, publicProcedure } from "../trpc.js";

/** `select version()` on the hub's database; the public error names only the kind of database. */
async function roundTrip(ctx: Context): Promise<string> {
  try {
    return await serverVersion(ctx.db);
  } catch (cause) {
    throw new TRPCError({
      code: "SERVICE_UNAVAILABLE",
      message: `expected the ${ctx.database.kind} database to answer select version(), found no answer`,
      cause,
    });
  }
}

/**
 * Liveness with a real round trip. Anyone may call it, so it says which kind of database answered and
 * nothing about where it lives or how its server was built (`healthDetails` and `lowrank doctor` do).
 */
export const health = publicProcedure.query(async ({ ctx }) => {
  await roundTrip(ctx);
  return { ok: true as const, database: { kind: ctx.database.kind }, time: new Date() };
});

/** The same check with the database's location and server version, for a signed-in administrator. */
export const healthDetails = authedProcedure.query(async ({ ctx }) => {
  const version = await roundTrip(ctx);
  return {
    ok: true as const,
    database: { kind: ctx.database.kind, location: ctx.database.location, serverVersion: version },
    time: new Date(),
  };
});
