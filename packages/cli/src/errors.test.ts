import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { initBackend, writeFolderAtomically } from "@lowrank/runtime";
import { describe, expect, it } from "vitest";
import { describeError } from "./errors.js";

/** The message the CLI prints for what `run` throws. */
async function cliMessage(run: () => Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await run();
  } catch (error) {
    return describeError(error);
  }
  throw new Error("expected a failure");
}

describe("SDK errors in the CLI's words", () => {
  it("an output that exists names --force, not the SDK's overwrite option (code kept)", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "lowrank-errors-"));
    try {
      const e = await cliMessage(() => writeFolderAtomically(dir, false, async () => {}));
      expect(e.code).toBe("InvalidArgument");
      expect(e.message).toMatch(/\(use --force to replace it\)$/);
      expect(e.message).not.toMatch(/overwrite/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("webgpu without Node's WebGPU names --backend webgpu, not installNodeWebGPU()", async () => {
    const e = await cliMessage(() => initBackend({ backend: "webgpu" }));
    expect(e.code).toBe("BackendUnavailable");
    expect(e.message).toContain("--backend webgpu");
    expect(e.message).not.toContain("installNodeWebGPU");
  });
});
