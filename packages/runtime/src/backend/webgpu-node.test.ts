import { kernelConformanceCases, registerLoraKernels } from "@lowrank/core";
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isRuntimeError } from "./errors.js";
import { initBackend } from "./initBackend.js";
import { installNodeWebGPU } from "./webgpu-node.js";

// WebGPU in Node through Dawn: with the machine's Vulkan driver, else Chromium's SwiftShader. Where neither
// exists the suite skips and says why (the Chromium run in test/browser is the one CI=true requires).
let skipReason: string | undefined;
let previous = "";

describe("webgpu in Node (Dawn)", () => {
  beforeAll(async () => {
    previous = tf.getBackend();
    // Only a missing adapter or driver (BackendUnavailable from installNodeWebGPU) is a reason to skip;
    // anything that fails once Dawn has an adapter is a failure, so no assertion sits inside this try.
    try {
      await installNodeWebGPU();
    } catch (error) {
      if (!isRuntimeError(error) || error.code !== "BackendUnavailable") throw error;
      skipReason = error.message;
      return;
    }
    registerLoraKernels();
    const info = await initBackend({ backend: "webgpu" });
    expect(info.backend).toBe("webgpu");
  }, 120_000);
  afterAll(async () => {
    if (previous) await initBackend({ backend: previous as "wasm" });
  });

  it("computes a matmul that agrees with a hand-computed product", async (ctx) => {
    if (skipReason) ctx.skip(`webgpu unavailable: ${skipReason}`);
    const y = tf.matMul(tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]), tf.tensor2d([7, 8, 9, 10, 11, 12], [3, 2]));
    expect(Array.from(await y.data())).toEqual([58, 64, 139, 154]);
    y.dispose();
  });

  for (const c of kernelConformanceCases("webgpu", { trials: 4 })) {
    it(`LoRA kernel conformance: ${c.name}`, async (ctx) => {
      if (skipReason) ctx.skip(`webgpu unavailable: ${skipReason}`);
      await c.run();
    });
  }
});
