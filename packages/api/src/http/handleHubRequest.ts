import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { sessionFrom } from "../hub/auth.js";
import type { HubServices } from "../hub/HubServices.js";
import { appRouter } from "../root.js";
import { createTRPCContext } from "../trpc.js";
import { crossSiteCookieWrite } from "./csrf.js";
import { handleHfRequest } from "./hfApi.js";
import { json } from "./responses.js";
import { handleUpload } from "./uploads.js";

/** The tRPC endpoint, with the caller's session (cookie or `hf_` token) resolved by better-auth. */
export async function handleTrpc(hub: HubServices, request: Request): Promise<Response> {
  const forged = crossSiteCookieWrite(hub, request);
  if (forged) return forged;
  return fetchRequestHandler({
    endpoint: "/api/trpc",
    req: request,
    router: appRouter,
    createContext: async () =>
      createTRPCContext({
        headers: request.headers,
        database: hub.database,
        hub,
        session: await sessionFrom(hub.auth, request.headers),
      }),
    onError: ({ path, error }) => {
      if (error.code === "INTERNAL_SERVER_ERROR") console.error(`tRPC /api/trpc/${path ?? "?"} failed:`, error);
    },
  });
}

/**
 * Every HTTP route of the hub's back end in one function of `Request`: `/api/trpc/*`, `/api/auth/*`
 * (better-auth), `PUT /api/uploads`, and the Hugging Face routes. The Next.js route handlers call it,
 * and so do tests and `serveHub` without Next.
 */
export async function handleHubRequest(hub: HubServices, request: Request): Promise<Response> {
  const { pathname } = new URL(request.url);
  const forged = crossSiteCookieWrite(hub, request);
  if (forged) return forged;
  if (pathname.startsWith("/api/trpc/")) return handleTrpc(hub, request);
  if (pathname.startsWith("/api/auth/")) return hub.auth.handler(request);
  if (pathname === "/api/uploads" && request.method === "PUT") return handleUpload(hub, request);
  const hf = await handleHfRequest(hub, request);
  return hf ?? json({ error: { code: "NOT_FOUND", message: `no route for ${request.method} ${pathname}` } }, 404);
}
