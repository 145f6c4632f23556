import type { Database, DbHandle } from "@lowrank/db";
import { initTRPC, TRPCError } from "@trpc/server";
import superjson from "superjson";
import { ZodError, z } from "zod";
import type { HubServices } from "./hub/HubServices.js";

/** Who is calling: a cookie session or an API token, resolved by better-auth before the context is built. */
export interface Session {
  user: { id: string; name: string; username?: string; role?: "user" | "admin" };
}

export interface CreateContextOptions {
  headers: Headers;
  /** The process-wide database handle (created once, already migrated). */
  database: DbHandle;
  session?: Session | null;
  /** Blob store, auth and inference: the routes that publish, download or sign in need them. */
  hub?: HubServices;
}

export interface Context {
  db: Database;
  database: Pick<DbHandle, "kind" | "location">;
  headers: Headers;
  session: Session | null;
  hub: HubServices | undefined;
}

/** Build the per-request context. Transports (the Next route, tests) call this. */
export function createTRPCContext(opts: CreateContextOptions): Context {
  return {
    db: opts.database.db,
    database: { kind: opts.database.kind, location: opts.database.location },
    headers: opts.headers,
    session: opts.session ?? null,
    hub: opts.hub,
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

/** Needs a signed-in user (cookie session or `Authorization: Bearer hf_...`); narrows `ctx.session` to non-null. */
export const authedProcedure = t.procedure.use(({ ctx, next }) => {
  if (!ctx.session) {
    throw new TRPCError({
      code: "UNAUTHORIZED",
      message: "expected a signed-in user, found none: sign in, or send an API token as Authorization: Bearer hf_...",
    });
  }
  return next({ ctx: { ...ctx, session: ctx.session } });
});

function requireHub(hub: HubServices | undefined): HubServices {
  if (!hub)
    throw new TRPCError({
      code: "INTERNAL_SERVER_ERROR",
      message: "this procedure needs the hub's services (blob store, auth) in its context",
    });
  return hub;
}

/** Anyone may call; `ctx.hub` is present. */
export const hubProcedure = t.procedure.use(({ ctx, next }) => next({ ctx: { ...ctx, hub: requireHub(ctx.hub) } }));

/** A signed-in user, with `ctx.hub`. */
export const authedHubProcedure = authedProcedure.use(({ ctx, next }) =>
  next({ ctx: { ...ctx, hub: requireHub(ctx.hub) } }),
);

/** An admin (role `admin`), with `ctx.hub`. */
export const adminProcedure = authedHubProcedure.use(({ ctx, next }) => {
  if (ctx.session.user.role !== "admin") {
    throw new TRPCError({
      code: "FORBIDDEN",
      message: `expected an admin, found ${ctx.session.user.username ?? ctx.session.user.id} (role user)`,
    });
  }
  return next({ ctx });
});
