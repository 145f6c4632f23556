import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, it } from "vitest";
import { kernelConformanceCases } from "../src/kernels/conformance.js";

/**
 * Runs the LoRA kernel conformance cases under vitest on `backendName`, which `activate` makes the active
 * backend (or returns why it cannot, and then the suite skips with that reason in its title).
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
        if (skipReason) ctx.skip(`${backendName} unavailable: ${skipReason}`);
        await c.run();
      });
    }
  });
}
