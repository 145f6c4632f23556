import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createDb, type DbHandle, migrate } from "@lowrank/db";
import { migratedPgliteDir } from "@lowrank/db/testing";
import { type BaseManifest, manifestFromConfig } from "@lowrank/formats";
import { createTRPCClient, httpLink } from "@trpc/client";
import superjson from "superjson";
import type { BlobStore } from "./blobs/BlobStore.js";
import { DiskBlobStore } from "./blobs/DiskBlobStore.js";
import { serveHub } from "./http/serveHub.js";
import { createHubServices } from "./hub/createHubServices.js";
import type { HubServices } from "./hub/HubServices.js";
import type { AppRouter } from "./root.js";

export { peftFilesFor } from "./hub/demo.js";

export const ADMIN_EMAIL = "admin@example.com";
export const TEST_SECRET = "test-secret-that-is-long-enough-0123456789";
const FIXTURES = new URL("../../../fixtures/", import.meta.url);

/** The tiny GPT-2 fixture's config.json (n_embd 2, one layer): a base every hub test can register. */
export function tinyGpt2Config(): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL("hf-gpt2-tiny/config.json", FIXTURES), "utf8"));
}

export type HubClient = ReturnType<typeof hubClient>;

/** A typed tRPC client of a running hub, signed in by cookie or token when given. */
export function hubClient(url: string, auth: { cookie?: string; token?: string } = {}) {
  return createTRPCClient<AppRouter>({
    links: [
      httpLink({
        url: `${url}/api/trpc`,
        transformer: superjson,
        headers: () => ({
          ...(auth.cookie ? { cookie: auth.cookie } : {}),
          ...(auth.token ? { authorization: `Bearer ${auth.token}` } : {}),
        }),
      }),
    ],
  });
}

export interface TestHub {
  hub: HubServices;
  url: string;
  dataDir: string;
  /** Sign up (admin when the email is ADMIN_EMAIL); returns the session cookie and a fresh `hf_` token. */
  signUp(username: string, email?: string): Promise<{ cookie: string; token: string; client: HubClient }>;
  /** Registers the tiny GPT-2 base as `gpt2-tiny` (as the admin) and returns its manifest. */
  registerTinyGpt2(admin: HubClient): Promise<BaseManifest>;
  /** Close the server, the database and delete the data. */
  close(): Promise<void>;
}

/** A hub on a migrated database (PGlite copy by default) with disk blobs in a temp folder, served on 127.0.0.1. */
export async function startTestHub(
  options: { database?: DbHandle; blobs?: BlobStore; maxUploadBytes?: number; signInPerMinute?: number } = {},
): Promise<TestHub> {
  const dataDir = options.database ? mkdtempSync(join(tmpdir(), "lowrank-hub-")) : await migratedPgliteDir();
  const database = options.database ?? (await createDb({ dataDir }));
  await migrate(database.db);
  const hub = await createHubServices({
    database,
    blobs: options.blobs ?? new DiskBlobStore(join(dataDir, "blobs")),
    secret: TEST_SECRET,
    baseURL: "http://127.0.0.1",
    adminEmails: [ADMIN_EMAIL],
    maxUploadBytes: options.maxUploadBytes,
    signInPerMinute: options.signInPerMinute ?? 1000,
  });
  const served = await serveHub(hub);
  const url = served.url;
  return {
    hub,
    url,
    dataDir,
    async signUp(username, email = `${username}@example.com`) {
      const response = await fetch(`${url}/api/auth/sign-up/email`, {
        method: "POST",
        headers: { "content-type": "application/json", origin: url },
        body: JSON.stringify({ email, password: "correct horse battery", name: username, username }),
      });
      if (!response.ok) throw new Error(`sign-up ${username}: ${response.status} ${await response.text()}`);
      const cookie = response.headers
        .getSetCookie()
        .map((c) => c.split(";")[0])
        .join("; ");
      const created = await hubClient(url, { cookie }).tokens.create.mutate({ name: "test" });
      return { cookie, token: created.token, client: hubClient(url, { token: created.token }) };
    },
    async registerTinyGpt2(admin) {
      const config = tinyGpt2Config();
      await admin.bases.register.mutate({ name: "gpt2-tiny", config, license: "mit" });
      return manifestFromConfig(config as never);
    },
    async close() {
      await served.close();
      await hub.inference?.close();
      if (!options.database) await database.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** PUT each file to `/api/uploads` with a token; returns the publish `files` list. */
export async function uploadFiles(url: string, token: string, files: Record<string, Uint8Array>) {
  const out: { path: string; sha256: string; size: number }[] = [];
  for (const [path, bytes] of Object.entries(files)) {
    const response = await fetch(`${url}/api/uploads`, {
      method: "PUT",
      headers: { authorization: `Bearer ${token}` },
      body: new Uint8Array(bytes),
    });
    if (response.status !== 201) throw new Error(`upload ${path}: ${response.status} ${await response.text()}`);
    const { sha256, size } = (await response.json()) as { sha256: string; size: number };
    out.push({ path, sha256, size });
  }
  return out;
}
