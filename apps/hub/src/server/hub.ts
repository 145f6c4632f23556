import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { type BlobStore, createHubServices, DiskBlobStore, type HubServices, S3BlobStore } from "@lowrank/api/hub";
import { seedDemo } from "@lowrank/api/seed";
import { defaultDataDir } from "@lowrank/db";
import type { InitBackendOptions } from "@lowrank/runtime";
import { parseHubEnv } from "../env.js";
import { getDatabase } from "./database.js";

// One set of hub services per server process, kept on globalThis like the database.
const store = globalThis as typeof globalThis & { __lowrankHub?: Promise<HubServices> };

function dataDirOf(env: ReturnType<typeof parseHubEnv>): string {
  return env.LOWRANK_DATA_DIR ? resolve(/*turbopackIgnore: true*/ env.LOWRANK_DATA_DIR) : defaultDataDir();
}

/**
 * The cookie secret: from the environment, else one made once in the data folder (mode 0600). Hub
 * instances that share a database must share the secret too, so production without it gets a warning.
 */
function authSecret(env: ReturnType<typeof parseHubEnv>, dataDir: string): string {
  if (env.LOWRANK_AUTH_SECRET) return env.LOWRANK_AUTH_SECRET;
  if (env.NODE_ENV === "production") {
    console.warn(
      `lowrank hub: LOWRANK_AUTH_SECRET is not set; using the secret in ${join(dataDir, "auth-secret")}. Set it when several hub instances share one database.`,
    );
  }
  const file = join(dataDir, "auth-secret");
  if (!existsSync(file)) {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, randomBytes(32).toString("base64url"), { mode: 0o600, flag: "wx" });
  }
  return readFileSync(file, "utf8").trim();
}

function blobStore(env: ReturnType<typeof parseHubEnv>, dataDir: string): BlobStore {
  if (!env.LOWRANK_S3_BUCKET) return new DiskBlobStore(join(dataDir, "blobs"));
  return new S3BlobStore({
    bucket: env.LOWRANK_S3_BUCKET,
    prefix: env.LOWRANK_S3_PREFIX,
    client: { endpoint: env.LOWRANK_S3_ENDPOINT, region: env.LOWRANK_S3_REGION ?? "us-east-1" },
  });
}

/**
 * Where tfjs's wasm binaries are. Inside the server bundle the runtime cannot find them through
 * `require.resolve`, so the hub points at its own dependency folder; without it inference uses `cpu`.
 */
function inferenceBackend(): InitBackendOptions {
  const dir = join(/*turbopackIgnore: true*/ process.cwd(), "node_modules", "@tensorflow", "tfjs-backend-wasm", "dist");
  return existsSync(join(dir, "tfjs-backend-wasm-simd.wasm"))
    ? { backend: "wasm", wasmPaths: `${dir}/` }
    : { backend: "cpu" };
}

async function open(): Promise<HubServices> {
  const env = parseHubEnv();
  const dataDir = dataDirOf(env);
  const hub = await createHubServices({
    database: await getDatabase(),
    blobs: blobStore(env, dataDir),
    secret: authSecret(env, dataDir),
    baseURL: env.LOWRANK_PUBLIC_URL ?? "http://localhost:3000",
    adminEmails: env.LOWRANK_ADMIN_EMAILS?.split(",")
      .map((e) => e.trim())
      .filter(Boolean),
    maxUploadBytes: env.LOWRANK_MAX_UPLOAD_BYTES,
    inferenceBackend: inferenceBackend(),
  });
  if (env.LOWRANK_SEED_DEMO !== "0") {
    const report = await seedDemo(hub);
    if (report.bases.length + report.adapters.length > 0) {
      console.log(
        `lowrank hub: demo content ready (${report.bases.length} bases, ${report.adapters.length} new adapters)`,
      );
    }
    for (const s of report.skipped) console.warn(`lowrank hub: demo seeding skipped ${s}`);
  }
  return hub;
}

/** The process-wide hub services (database, blobs, auth), made on first use. A failed start is retried next call. */
export function getHub(): Promise<HubServices> {
  if (!store.__lowrankHub) {
    const opening = open();
    store.__lowrankHub = opening;
    opening.catch(() => {
      if (store.__lowrankHub === opening) store.__lowrankHub = undefined;
    });
  }
  return store.__lowrankHub;
}

/** Forget the services (tests); the database is closed by `closeDatabase`. */
export function resetHub(): void {
  store.__lowrankHub = undefined;
}
