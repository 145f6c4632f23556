import * as tf from "@tensorflow/tfjs-core";
import { afterAll, describe, expect, it } from "vitest";
import { initBackend, isRuntimeError } from "../index.js";

describe("initBackend", () => {
  afterAll(async () => {
    await initBackend({ backend: "wasm" });
  });

  it("initializes wasm with SIMD in Node by default for auto (no tfjs-node installed)", async () => {
    await initBackend({ backend: "cpu" }); // so that auto really re-selects
    const info = await initBackend({ backend: "auto" });
    expect(["wasm", "tensorflow"]).toContain(info.backend);
    expect(tf.getBackend()).toBe(info.backend);
    if (info.backend === "wasm") {
      expect(info.simd).toBe(true);
      expect(info.threads).toBeGreaterThanOrEqual(1);
      expect(info.notes.some((n) => n.startsWith("tensorflow unavailable"))).toBe(true);
    }
  });

  it("computes a matmul on wasm and cpu that agrees with a plain loop", async () => {
    const a = [1, 2, 3, 4, 5, 6];
    const b = [7, 8, 9, 10, 11, 12];
    const ref = [58, 64, 139, 154]; // [2x3]·[3x2] by hand
    for (const backend of ["wasm", "cpu"] as const) {
      const info = await initBackend({ backend });
      expect(info.backend).toBe(backend);
      const out = tf.tidy(() => tf.matMul(tf.tensor2d(a, [2, 3]), tf.tensor2d(b, [3, 2])).dataSync());
      expect(Array.from(out)).toEqual(ref);
    }
  });

  it("reports a typed error for an unavailable backend", async () => {
    const err = await initBackend({ backend: "tensorflow" }).catch((e: unknown) => e);
    expect(isRuntimeError(err)).toBe(true);
    expect((err as { code: string }).code).toBe("BackendUnavailable");
    const err2 = await initBackend({ backend: "webgpu" }).catch((e: unknown) => e);
    expect((err2 as { code: string }).code).toBe("BackendUnavailable");
  });

  it("notes that threads are unavailable in Node instead of failing", async () => {
    const info = await initBackend({ backend: "wasm", threads: 2 });
    expect(info.threads).toBe(1);
  });
});
