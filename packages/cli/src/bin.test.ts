import { spawn, spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { fixturePath } from "@lowrank/vitest-config/fixtures";
import { pnpmCommand } from "@lowrank/vitest-config/pnpm";
import { describe, expect, it } from "vitest";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const launcher = path.join(repoRoot, "packages/cli/bin/lowrank.js");

/** Runs the command, closes its stdout after the first chunk (as `| head -1` does), and collects the rest. */
function readFirstChunk(args: string[]): Promise<{ code: number | null; signal: string | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [launcher, ...args], { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += String(d)));
    child.stdout.once("data", () => child.stdout.destroy());
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stderr }));
  });
}

describe("the lowrank executable", () => {
  it("`pnpm lowrank` prints only the CLI's own output: no script echo, no ELIFECYCLE line", () => {
    const pnpm = pnpmCommand();
    const run = (args: string[]) =>
      spawnSync(pnpm[0] as string, [...pnpm.slice(1), "lowrank", ...args], {
        cwd: path.join(repoRoot, "packages"),
        encoding: "utf8",
        timeout: 120_000,
      });
    const ok = run(["doctor", "--json", "--backend", "cpu"]);
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stderr).toBe("");
    expect(ok.stdout.trim().split("\n")).toHaveLength(1);
    expect(JSON.parse(ok.stdout).backend.name).toBe("cpu");
    // Paths are read from where the command was typed (here packages/), not the repository root.
    const rel = run(["inspect", "../fixtures/hf-gpt2-tiny", "--json"]);
    expect(rel.status, rel.stderr).toBe(0);
    expect(JSON.parse(rel.stdout).format).toBe("hf-model");
    const bad = run(["no-such-command"]);
    expect(bad.status).toBe(2);
    expect(bad.stdout).toBe("");
    expect(bad.stderr).toBe("lowrank: unknown command 'no-such-command'\n(run with --help for usage)\n");
  });

  it("ends quietly (exit 0, nothing on stderr) when the reader closes the pipe, with wasm threads too", async () => {
    // One row of a 50,257-token vocabulary is about 600 KB of text, far past a pipe's buffer.
    const base = fixturePath("hf-gpt2-lmhead-tiny");
    for (const extra of [[], ["--backend", "wasm", "--threads", "2"]]) {
      const r = await readFirstChunk(["forward", "--base", base, "--input-ids", "1,2,3", ...extra]);
      expect(r.stderr, extra.join(" ")).toBe("");
      expect([r.code, r.signal], extra.join(" ")).toEqual([0, null]);
    }
    const inspect = await readFirstChunk(["inspect", base]);
    expect(inspect.stderr).toBe("");
    expect(inspect.code).toBe(0);
  });
});
