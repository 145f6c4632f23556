import type { HubServices } from "../hub/HubServices.js";
import { json } from "./responses.js";

/**
 * A browser on another site can make a signed-in user's browser send a POST with the hub's cookie
 * (CSRF). Writes that carry a cookie must come from the hub's own origin; tokens (`Authorization`)
 * are not sent by browsers on their own, so they are not affected. better-auth checks its own routes.
 */
export function crossSiteCookieWrite(hub: HubServices, request: Request): Response | null {
  if (request.method === "GET" || request.method === "HEAD" || request.method === "OPTIONS") return null;
  if (!request.headers.get("cookie") || new URL(request.url).pathname.startsWith("/api/auth/")) return null;
  const origin = request.headers.get("origin");
  if (!origin) return null;
  const allowed = new Set([new URL(request.url).origin, new URL(String(hub.auth.options.baseURL)).origin]);
  if (allowed.has(origin)) return null;
  return json(
    { error: { code: "FORBIDDEN", message: `cross-site request from ${origin} with the hub's cookie refused` } },
    403,
  );
}
