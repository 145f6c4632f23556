import { createCaller, createTRPCContext, type Session } from "@lowrank/api";
import { sessionFrom } from "@lowrank/api/hub";
import { headers } from "next/headers.js";
import { cache } from "react";
import { getHub } from "./hub.js";

/** The signed-in user of this request (cookie session), or null; once per request. */
export const getSession = cache(async (): Promise<Session | null> => {
  // headers() first: it marks the render dynamic, so `next build` never opens the database.
  const h = await headers();
  const hub = await getHub();
  return sessionFrom(hub.auth, h);
});

/** A server-side tRPC caller for this request, with its session: Server Components read data through it. */
export const getCaller = cache(async () => {
  const h = await headers();
  const hub = await getHub();
  return createCaller(createTRPCContext({ headers: h, database: hub.database, hub, session: await getSession() }));
});
