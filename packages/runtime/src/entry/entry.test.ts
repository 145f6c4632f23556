// The per-backend subpath entries resolve through the package's exports map and do what they say.
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, describe, expect, it } from "vitest";

describe("@lowrank/runtime subpath entries", () => {
  afterAll(async () => {
    const { initWasmBackend } = await import("@lowrank/runtime/wasm");
    await initWasmBackend();
  });

  it("/cpu and /wasm switch to their backend; /webgpu says why it cannot run in plain Node", async () => {
    const { initCpuBackend } = await import("@lowrank/runtime/cpu");
    expect((await initCpuBackend()).backend).toBe("cpu");
    expect(tf.getBackend()).toBe("cpu");
    const { initWasmBackend, parseThreads } = await import("@lowrank/runtime/wasm");
    const info = await initWasmBackend({ threads: parseThreads("1", "test") });
    expect([info.backend, info.simd, info.threads]).toEqual(["wasm", true, 1]);
    const { initWebGPUBackend } = await import("@lowrank/runtime/webgpu");
    const err = await initWebGPUBackend().catch((e: unknown) => e);
    expect((err as { code?: string }).code).toBe("BackendUnavailable");
  });

  it("/node exports the Node-only surface, the same functions as the main entry", async () => {
    const node = await import("@lowrank/runtime/node");
    const main = await import("@lowrank/runtime");
    expect(node.startEngineServer).toBe(main.startEngineServer);
    expect(node.installNodeWebGPU).toBe(main.installNodeWebGPU);
    expect(node.mergeHfFolder).toBe(main.mergeHfFolder);
  });
});
