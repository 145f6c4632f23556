import { serverVersion } from "@lowrank/db";
import { TRPCError } from "@trpc/server";
import { publicProcedure } from "../trpc.js";

/** Liveness with a real round trip: `select version()` on the hub's database. */
export const health = publicProcedure.query(async ({ ctx }) => {
  let version: string;
  try {
    version = await serverVersion(ctx.db);
  } catch (cause) {
    throw new TRPCError({
      code: "SERVICE_UNAVAILABLE",
      message: `expected ${ctx.database.kind} at ${ctx.database.location} to answer select version(), found: ${String(cause)}`,
      cause,
    });
  }
  return {
    ok: true as const,
    database: { kind: ctx.database.kind, location: ctx.database.location, serverVersion: version },
    time: new Date(),
  };
});
