import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, it } from "vitest";
import { kernelConformanceCases } from "../src/kernels/conformance.js";

/**
 * Runs the LoRA kernel conformance cases under vitest on `backendName`, which `activate` makes the active
 * backend (or returns why it cannot, and then each case skips with that reason, or fails under CI=true).
 */
export function describeKernelConformance(backendName: string, activate: () => Promise<string | undefined>): void {
  let previous = "";
  let skipReason: string | undefined;
  describe(`LoRA kernel conformance on ${backendName}`, () => {
    beforeAll(async () => {
      previous = tf.getBackend();
      skipReason = await activate();
    });
    afterAll(async () => {
      if (previous && tf.getBackend() !== previous) await tf.setBackend(previous);
    });
    for (const c of kernelConformanceCases(backendName)) {
      it(c.name, async (ctx) => {
        if (skipReason) {
          // Under CI=true a backend this suite is meant for must be there: fail rather than skip.
          if (process.env.CI === "true") throw new Error(`${backendName} unavailable under CI=true: ${skipReason}`);
          ctx.skip(`${backendName} unavailable: ${skipReason}`);
        }
        await c.run();
      });
    }
  });
}
