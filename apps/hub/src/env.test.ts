import { describe, expect, it } from "vitest";
import { parseHubEnv } from "./env.js";

describe("parseHubEnv", () => {
  it("defaults NODE_ENV and leaves the database unset (embedded PGlite)", () => {
    expect(parseHubEnv({})).toEqual({ NODE_ENV: "development" });
  });
  it("keeps DATABASE_URL and LOWRANK_DATA_DIR", () => {
    const env = parseHubEnv({
      DATABASE_URL: "postgres://a@b/c",
      LOWRANK_DATA_DIR: "/srv/lowrank",
      NODE_ENV: "production",
    });
    expect(env).toEqual({ DATABASE_URL: "postgres://a@b/c", LOWRANK_DATA_DIR: "/srv/lowrank", NODE_ENV: "production" });
  });
  it("names every bad variable", () => {
    expect(() => parseHubEnv({ DATABASE_URL: "sqlite://x", NODE_ENV: "staging" })).toThrow(
      /DATABASE_URL.*NODE_ENV|NODE_ENV.*DATABASE_URL/,
    );
  });
});
