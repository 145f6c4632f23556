import { type ChildProcess, spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// `pnpm lowrank serve` as people start it: pnpm runs the cli's bin through its shim, which execs node. A
// signal to that outermost process must stop the server and free its port (pnpm forwards SIGTERM to its
// child only, so no shell may sit in between: scripts that start servers `exec` their command).

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../..");

/** Starts `pnpm lowrank serve` on a free port; resolves with the child and its URL once it listens. */
async function startServe(detached: boolean): Promise<{ child: ChildProcess; port: number; url: string }> {
  const child = spawn("pnpm", ["lowrank", "serve", "--base", "synthetic:mlp", "--port", "0", "--backend", "cpu"], {
    cwd: repoRoot,
    detached,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, FORCE_COLOR: "0" },
  });
  let out = "";
  let err = "";
  child.stderr?.on("data", (d) => (err += String(d)));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout?.on("data", (d) => {
      out += String(d);
      const m = /listening on (http:\/\/127\.0\.0\.1:(\d+))/.exec(out);
      if (m) resolve(m[1] as string);
    });
    child.once("exit", (code) => reject(new Error(`serve exited (${code}) before listening: ${out}${err}`)));
  });
  return { child, url, port: Number(new URL(url).port) };
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once("exit", (code) => resolve(code)));
}

/** Whether a new server can listen on `port` (the old one let it go). */
function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once("error", () => resolve(false));
    probe.listen(port, "127.0.0.1", () => probe.close(() => resolve(true)));
  });
}

describe("pnpm lowrank serve and signals", () => {
  it("SIGTERM to the pnpm process stops the server and frees its port", async () => {
    const { child, url, port } = await startServe(false);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect(await portIsFree(port)).toBe(false);
    child.kill("SIGTERM");
    await exited(child);
    expect(await portIsFree(port)).toBe(true);
  }, 60_000);

  it("SIGINT to the process group (Ctrl-C in a terminal) stops the server and frees its port", async () => {
    const { child, url, port } = await startServe(true);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    process.kill(-(child.pid as number), "SIGINT");
    await exited(child);
    expect(await portIsFree(port)).toBe(true);
  }, 60_000);

  it("the long-running scripts people start exec their command, so no shell swallows the signal", async () => {
    const scripts = async (dir: string) =>
      (
        JSON.parse(await readFile(path.join(repoRoot, dir, "package.json"), "utf8")) as {
          scripts: Record<string, string>;
        }
      ).scripts;
    const root = await scripts(".");
    const hub = await scripts("apps/hub");
    // `pnpm lowrank` has no script: pnpm runs the cli package's bin, which execs node, with no shell between.
    expect(root.lowrank).toBeUndefined();
    for (const script of [root.dev, hub.dev, hub.start]) expect(script).toMatch(/(^|\s)exec\s/);
  });
});
