import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { defaultDataDir, findRepoRoot, parseDbEnv } from "./env.js";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url)).replace(/\/$/, "");

describe("parseDbEnv", () => {
  it("defaults to PGlite in <repo root>/.data", () => {
    expect(parseDbEnv({})).toEqual({ databaseUrl: undefined, dataDir: join(repoRoot, ".data") });
  });

  it("takes DATABASE_URL and resolves a relative LOWRANK_DATA_DIR from the cwd", () => {
    const env = parseDbEnv({ DATABASE_URL: "postgres://u:p@h:5432/d", LOWRANK_DATA_DIR: "state" });
    expect(env).toEqual({ databaseUrl: "postgres://u:p@h:5432/d", dataDir: resolve("state") });
  });

  it("rejects a non-postgres DATABASE_URL with code InvalidEnv, naming the variable", () => {
    expect(() => parseDbEnv({ DATABASE_URL: "mysql://x" })).toThrow(
      expect.objectContaining({ code: "InvalidEnv", message: expect.stringContaining("DATABASE_URL") }),
    );
  });
});

describe("findRepoRoot", () => {
  const outside = mkdtempSync(join(tmpdir(), "lowrank-env-"));
  afterAll(() => rmSync(outside, { recursive: true, force: true }));

  it("walks up to the folder holding pnpm-workspace.yaml", () => {
    mkdirSync(join(outside, "repo", "apps", "hub"), { recursive: true });
    writeFileSync(join(outside, "repo", "pnpm-workspace.yaml"), "packages: []\n");
    expect(findRepoRoot(join(outside, "repo", "apps", "hub"))).toBe(join(outside, "repo"));
    expect(defaultDataDir(join(outside, "repo", "apps", "hub"))).toBe(join(outside, "repo", ".data"));
  });

  it("falls back to the starting folder outside any workspace", () => {
    mkdirSync(join(outside, "loose"), { recursive: true });
    expect(findRepoRoot(join(outside, "loose"))).toBe(join(outside, "loose"));
  });
});
