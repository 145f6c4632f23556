import type { Database, DbHandle } from "@lowrank/db";
import { initTRPC, TRPCError } from "@trpc/server";
import superjson from "superjson";
import { ZodError, z } from "zod";

/** Who is calling. Placeholder until the hub has sign-in: every context has `session: null`. */
export interface Session {
  user: { id: string; name: string };
}

export interface CreateContextOptions {
  headers: Headers;
  /** The process-wide database handle (created once, already migrated). */
  database: DbHandle;
  session?: Session | null;
}

export interface Context {
  db: Database;
  database: Pick<DbHandle, "kind" | "location">;
  headers: Headers;
  session: Session | null;
}

/** Build the per-request context. Transports (the Next route, tests) call this. */
export function createTRPCContext(opts: CreateContextOptions): Context {
  return {
    db: opts.database.db,
    database: { kind: opts.database.kind, location: opts.database.location },
    headers: opts.headers,
    session: opts.session ?? null,
  };
}

const t = initTRPC.context<Context>().create({
  transformer: superjson,
  errorFormatter: ({ shape, error }) => ({
    ...shape,
    data: { ...shape.data, zodError: error.cause instanceof ZodError ? z.flattenError(error.cause) : null },
  }),
});

export const createTRPCRouter = t.router;
export const createCallerFactory = t.createCallerFactory;

/** Anyone may call. */
export const publicProcedure = t.procedure;

/** Needs a signed-in user; narrows `ctx.session` to non-null. No sign-in exists yet, so it always refuses. */
export const authedProcedure = t.procedure.use(({ ctx, next }) => {
  if (!ctx.session) throw new TRPCError({ code: "UNAUTHORIZED", message: "expected a signed-in user, found none" });
  return next({ ctx: { ...ctx, session: ctx.session } });
});
