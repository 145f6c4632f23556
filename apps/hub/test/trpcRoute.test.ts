import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AppRouter } from "@lowrank/api";
import { createTRPCClient, httpBatchLink } from "@trpc/client";
import superjson from "superjson";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// The route module as Next loads it, called in-process with real Requests.
type RouteModule = typeof import("../src/app/api/trpc/[trpc]/route.js");
type DatabaseModule = typeof import("../src/server/database.js");

describe("/api/trpc route handler", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "lowrank-hub-"));
  const saved = {
    DATABASE_URL: process.env.DATABASE_URL,
    LOWRANK_DATA_DIR: process.env.LOWRANK_DATA_DIR,
    LOWRANK_SEED_DEMO: process.env.LOWRANK_SEED_DEMO,
  };
  let route: RouteModule;
  let database: DatabaseModule;

  beforeAll(async () => {
    delete process.env.DATABASE_URL;
    process.env.LOWRANK_DATA_DIR = dataDir;
    process.env.LOWRANK_SEED_DEMO = "0";
    route = await import("../src/app/api/trpc/[trpc]/route.js");
    database = await import("../src/server/database.js");
  });

  afterAll(async () => {
    await database?.closeDatabase();
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("answers GET /api/trpc/health with the embedded database in LOWRANK_DATA_DIR", async () => {
    const response = await route.GET(new Request("http://localhost:3000/api/trpc/health"));
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("application/json");
    const body = (await response.json()) as { result: { data: Parameters<typeof superjson.deserialize>[0] } };
    const health = superjson.deserialize<{ ok: boolean; database: Record<string, string>; time: Date }>(
      body.result.data,
    );
    expect(health.ok).toBe(true);
    expect(health.database).toEqual({ kind: "pglite" });
    expect(health.time).toBeInstanceOf(Date);
    // Public: neither the data folder nor the server build reaches a visitor.
    expect(JSON.stringify(body)).not.toContain(dataDir);
    expect(JSON.stringify(body)).not.toMatch(/PostgreSQL|PGlite/);
  });

  it("serves the typed tRPC client (batched, superjson) through the same handler", async () => {
    const client = createTRPCClient<AppRouter>({
      links: [
        httpBatchLink({
          url: "http://localhost:3000/api/trpc",
          transformer: superjson,
          fetch: (input, init) => {
            const request = new Request(input instanceof Request ? input : String(input), init);
            return request.method === "POST" ? route.POST(request) : route.GET(request);
          },
        }),
      ],
    });
    const [a, b] = await Promise.all([client.health.query(), client.health.query()]);
    expect(a.database.kind).toBe("pglite");
    expect(b.database).toEqual(a.database);
    expect(a.time).toBeInstanceOf(Date);
  });

  it("opens the database once per process and migrates it on first use", async () => {
    const first = await database.getDatabase();
    const second = await database.getDatabase();
    expect(second).toBe(first);
    const { adapters } = await import("@lowrank/db");
    expect(await first.db.select().from(adapters)).toEqual([]);
  });

  it("made a cookie secret in the data folder, readable by its owner only", async () => {
    const { statSync } = await import("node:fs");
    expect(statSync(join(dataDir, "auth-secret")).mode & 0o777).toBe(0o600);
  });

  it("answers 404 with a tRPC error for an unknown procedure", async () => {
    const response = await route.GET(new Request("http://localhost:3000/api/trpc/nope"));
    expect(response.status).toBe(404);
    const body = (await response.json()) as { error: { json: { data: { code: string } } } };
    expect(body.error.json.data.code).toBe("NOT_FOUND");
  });
});
