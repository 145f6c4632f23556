import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { dataLocations } from "./paths.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

describe("dataLocations", () => {
  it("defaults to <workspace root>/.data whatever the cwd inside the repo, like the hub", () => {
    const where = dataLocations({}, path.join(repoRoot, "packages", "cli"));
    expect(where.database).toEqual({ kind: "pglite", location: path.join(repoRoot, ".data", "pglite") });
    expect(where.dataDir).toBe(path.join(repoRoot, ".data"));
    expect(where.blobs).toEqual({ kind: "files", location: path.join(repoRoot, ".data", "blobs") });
  });

  it("honours LOWRANK_DATA_DIR and redacts the password of DATABASE_URL", () => {
    const where = dataLocations(
      { LOWRANK_DATA_DIR: "/srv/lowrank", DATABASE_URL: "postgres://u:secret@db:5432/x" },
      "/",
    );
    expect(where.dataDir).toBe("/srv/lowrank");
    expect(where.blobs.location).toBe("/srv/lowrank/blobs");
    expect(where.database.kind).toBe("postgres");
    expect(where.database.location).not.toContain("secret");
    expect(where.database.location).toContain("db:5432");
  });

  it("reports the hub's S3 bucket when LOWRANK_S3_BUCKET is set, as the hub uses it", () => {
    const where = dataLocations({ LOWRANK_S3_BUCKET: "adapters", LOWRANK_S3_PREFIX: "prod/" }, "/");
    expect(where.blobs).toEqual({ kind: "s3", location: "s3://adapters/prod/" });
  });
});
