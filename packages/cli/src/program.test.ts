import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { pnpmCommand } from "@lowrank/vitest-config/pnpm";
import { describe, expect, it } from "vitest";
import { runCli } from "./program.js";
import { captureIO } from "./testing.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

describe("lowrank CLI shell", () => {
  it("doctor --json reports node, the active backend with its features, and the database location", async () => {
    const io = captureIO();
    const code = await runCli(["doctor", "--json", "--backend", "wasm"], io);
    expect(code).toBe(0);
    const report = JSON.parse(io.out());
    expect(report.node).toBe(process.versions.node);
    expect(report.backend.name).toBe("wasm");
    expect(report.backend.simd).toBe(true);
    expect(report.database.kind).toMatch(/^(pglite|postgres)$/);
    // No blob store is built yet, so doctor reports none (it used to print a folder nothing used).
    expect(report).not.toHaveProperty("blobs");
  });

  it("doctor --threads runs wasm on 2 threads and goes back to 1; a bad count is a usage error", async () => {
    const io = captureIO();
    expect(await runCli(["doctor", "--json", "--backend", "wasm", "--threads", "2"], io)).toBe(0);
    expect(JSON.parse(io.out()).backend.threads).toBe(2);
    const bad = captureIO();
    expect(await runCli(["doctor", "--backend", "wasm", "--threads", "0"], bad)).toBe(2);
    expect(bad.err()).toMatch(/--threads: expected a thread count from 1 to 999 or "auto", found "0"/);
    const back = captureIO();
    expect(await runCli(["doctor", "--json", "--backend", "wasm"], back)).toBe(0);
    expect(JSON.parse(back.out()).backend.threads).toBe(1);
  });

  it("doctor prints a readable report", async () => {
    const io = captureIO();
    expect(await runCli(["doctor", "--backend", "cpu"], io)).toBe(0);
    expect(io.out()).toMatch(/^backend\s+cpu \(tfjs 4\.22\.0/m);
  });

  it("exits 2 on usage errors and 0 on --help for every command", async () => {
    const bad = captureIO();
    expect(await runCli(["no-such-command"], bad)).toBe(2);
    expect(bad.err()).toContain("unknown command");
    const io = captureIO();
    expect(await runCli(["--help"], io)).toBe(0);
    const names = [...io.out().matchAll(/^ {2}([a-z][a-z-]*)/gm)].map((m) => m[1]).filter((n) => n !== "help");
    expect(names).toContain("doctor");
    for (const name of names) {
      const sub = captureIO();
      expect(await runCli([name!, "--help"], sub), name).toBe(0);
      expect(sub.out()).toContain(`Usage: lowrank ${name}`);
    }
  });

  it("exits 1 with a one-line reason on bad input, and a JSON error with --json", async () => {
    const io = captureIO();
    expect(await runCli(["doctor", "--backend", "nonsense"], io)).toBe(1);
    expect(io.err().trim().split("\n")).toHaveLength(1);
    const json = captureIO();
    expect(await runCli(["doctor", "--backend", "nonsense", "--json"], json)).toBe(1);
    expect(JSON.parse(json.out()).error.code).toBe("InvalidArgument");
  });

  it("runs as `pnpm lowrank` from the repository root", () => {
    const pnpm = pnpmCommand();
    const r = spawnSync(pnpm[0]!, [...pnpm.slice(1), "lowrank", "doctor", "--json", "--backend", "cpu"], {
      cwd: repoRoot,
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim().split("\n").at(-1)!).backend.name).toBe("cpu");
  });
});
