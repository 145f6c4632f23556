import { apiKey } from "@better-auth/api-key";
import { account, apikey, type Database, rateLimit, SLUG_PATTERN, session, user, verification } from "@lowrank/db";
import { APIError, betterAuth } from "better-auth";
import { drizzleAdapter } from "better-auth/adapters/drizzle";
import type { Session } from "../trpc.js";

/** Prefix of API tokens: the `@huggingface/hub` client refuses tokens without it. */
export const TOKEN_PREFIX = "hf_";

export interface AuthOptions {
  /** Signs cookies; at least 32 characters. */
  secret: string;
  /** The hub's public URL (`http://localhost:3000`). */
  baseURL: string;
  /** Emails that get the `admin` role when they sign up (admins register base models). */
  adminEmails?: readonly string[];
  /** Sign-in attempts per minute per client address (default 5). */
  signInPerMinute?: number;
}

/**
 * better-auth on the hub's database: email and password (scrypt), cookie sessions, API tokens
 * (`hf_...`, stored hashed, shown once, revocable) sent as `Authorization: Bearer` or `x-api-key`,
 * and sign-in attempts rate limited in the database (so every hub instance counts together).
 */
export function createAuth(db: Database, options: AuthOptions) {
  const admins = new Set((options.adminEmails ?? []).map((e) => e.toLowerCase()));
  return betterAuth({
    secret: options.secret,
    baseURL: options.baseURL,
    basePath: "/api/auth",
    telemetry: { enabled: false },
    database: drizzleAdapter(db, {
      provider: "pg",
      schema: { user, session, account, verification, apikey, rateLimit },
    }),
    emailAndPassword: { enabled: true, minPasswordLength: 8, maxPasswordLength: 128 },
    user: {
      additionalFields: {
        username: { type: "string", required: true, input: true },
        role: { type: "string", required: false, defaultValue: "user", input: false },
      },
    },
    databaseHooks: {
      user: {
        create: {
          before: async (data) => {
            const username = String((data as { username?: unknown }).username ?? "");
            if (!SLUG_PATTERN.test(username)) {
              throw new APIError("BAD_REQUEST", {
                message: `username: expected a lowercase slug (a-z, 0-9, '-', '_', '.'; 1-64 characters), found ${JSON.stringify(username.slice(0, 80))}`,
              });
            }
            const role = admins.has(String(data.email).toLowerCase()) ? "admin" : "user";
            return { data: { ...data, username, role } };
          },
        },
      },
    },
    rateLimit: {
      enabled: true,
      storage: "database",
      window: 60,
      max: 600,
      customRules: {
        "/sign-in/email": { window: 60, max: options.signInPerMinute ?? 5 },
        "/sign-up/email": { window: 60, max: 10 },
      },
    },
    advanced: {
      // Behind a proxy the client address is in X-Forwarded-For; tests send it to tell clients apart.
      ipAddress: { ipAddressHeaders: ["x-forwarded-for"] },
    },
    plugins: [
      apiKey({
        defaultPrefix: TOKEN_PREFIX,
        enableSessionForAPIKeys: true,
        // Tokens are for machines that call many times a minute: no per-key quota.
        rateLimit: { enabled: false },
        customAPIKeyGetter: (ctx) => {
          const bearer = ctx.headers?.get("authorization")?.replace(/^Bearer\s+/i, "");
          if (bearer?.startsWith(TOKEN_PREFIX)) return bearer;
          const header = ctx.headers?.get("x-api-key");
          return header?.startsWith(TOKEN_PREFIX) ? header : null;
        },
      }),
    ],
  });
}

export type Auth = ReturnType<typeof createAuth>;

/**
 * The signed-in user behind `headers` (a session cookie or an API token), or null. A token that is
 * wrong, revoked or expired is null too: the caller answers 401.
 */
export async function sessionFrom(auth: Auth, headers: Headers): Promise<Session | null> {
  try {
    const found = await auth.api.getSession({ headers });
    if (!found) return null;
    const u = found.user as typeof found.user & { username?: string; role?: string };
    return {
      user: { id: u.id, name: u.name, username: u.username ?? "", role: u.role === "admin" ? "admin" : "user" },
    };
  } catch {
    return null;
  }
}
