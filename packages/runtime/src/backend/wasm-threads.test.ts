import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import workerThreads from "node:worker_threads";
import { afterAll, describe, expect, it } from "vitest";
import { patchNodeForWasmThreads, writeScriptOnce } from "./wasm-threads.js";

const dir = mkdtempSync(path.join(os.tmpdir(), "lowrank-wasm-threads-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("wasm thread start-up in Node", () => {
  it("writes each script once, under a name derived from its text, and never rewrites it", () => {
    const a = writeScriptOnce(dir, "worker", "postMessage(1);");
    const inode = statSync(a).ino;
    expect(writeScriptOnce(dir, "worker", "postMessage(1);")).toBe(a);
    expect(statSync(a).ino).toBe(inode); // same file, not a fresh copy renamed over it
    expect(readFileSync(a, "utf8")).toBe("postMessage(1);");
    const b = writeScriptOnce(dir, "worker", "postMessage(2);");
    expect(b).not.toBe(a);
    expect(readFileSync(b, "utf8")).toBe("postMessage(2);");
    expect(readFileSync(a, "utf8")).toBe("postMessage(1);");
  });

  it("fails start-up with BackendInitFailed when a worker exits before it is ready (an empty script exits with 0)", async () => {
    const empty = path.join(dir, "empty.cjs");
    writeFileSync(empty, "");
    const patch = patchNodeForWasmThreads(2);
    try {
      new workerThreads.Worker(empty); // the patched class, as Emscripten's pool gets it
      await expect(patch.failure).rejects.toMatchObject({
        name: "RuntimeError",
        code: "BackendInitFailed",
        message: expect.stringMatching(/worker 1 .*exited with code 0 during start-up/),
      });
    } finally {
      patch.restore();
    }
  });

  it("fails start-up when a worker throws, and terminates the start-up workers on request", async () => {
    const throwing = path.join(dir, "throws.cjs");
    writeFileSync(throwing, 'throw new Error("no shared memory here");');
    const waiting = path.join(dir, "waits.cjs");
    writeFileSync(waiting, 'require("node:worker_threads").parentPort.on("message", () => {});');
    const patch = patchNodeForWasmThreads(2);
    try {
      const idle = new workerThreads.Worker(waiting);
      const exited = once(idle, "exit");
      const bad = new workerThreads.Worker(throwing);
      // Wired as Emscripten's pool wires it: an `onerror` that rethrows, called from the "error" event.
      // During start-up it must not be reached (the rethrow would be an uncaught exception).
      let rethrown = 0;
      (bad as unknown as { onerror: (e: unknown) => void }).onerror = (e) => {
        rethrown++;
        throw e;
      };
      bad.on("error", (e) => (bad as unknown as { onerror: (e: unknown) => void }).onerror(e));
      await expect(patch.failure).rejects.toMatchObject({
        code: "BackendInitFailed",
        message: expect.stringMatching(/worker 2 .*no shared memory here/),
      });
      expect(rethrown).toBe(0);
      await patch.terminateWorkers();
      await exited; // terminateWorkers resolves once every start-up worker has exited
    } finally {
      patch.restore();
    }
  });

  it("stops watching once start-up has settled: a later exit is not a failure", async () => {
    const empty = path.join(dir, "empty-later.cjs");
    writeFileSync(empty, "");
    const patch = patchNodeForWasmThreads(2);
    let failed = false;
    patch.failure.catch(() => {
      failed = true;
    });
    const w = new workerThreads.Worker(empty);
    patch.restore();
    const [code] = await once(w, "exit");
    await new Promise((r) => setImmediate(r));
    expect(code).toBe(0);
    expect(failed).toBe(false);
    expect(workerThreads.Worker.name).toBe("Worker"); // the original class is back
  });
});
