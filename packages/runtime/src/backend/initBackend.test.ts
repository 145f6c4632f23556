import { availableParallelism } from "node:os";
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, describe, expect, it } from "vitest";
import { initBackend, isRuntimeError, parseThreads } from "../index.js";

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
      const env = process.env.LOWRANK_WASM_THREADS; // the thread count when none is given
      expect(info.threads).toBe(env === undefined ? 1 : env === "auto" ? availableParallelism() : Number(env));
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

  it("runs wasm with 2 threads in Node when asked, and goes back to 1", async () => {
    const info = await initBackend({ backend: "wasm", threads: 2 });
    expect(info.threads).toBe(2);
    const a = tf.randomUniform([64, 48], -1, 1, "float32", 1) as tf.Tensor2D;
    const b = tf.randomUniform([48, 40], -1, 1, "float32", 2) as tf.Tensor2D;
    const [av, bv] = [a.dataSync(), b.dataSync()];
    const got = tf.tidy(() => tf.matMul(a, b).dataSync());
    for (let i = 0; i < 64; i++)
      for (let j = 0; j < 40; j++) {
        let s = 0;
        for (let p = 0; p < 48; p++) s += (av[i * 48 + p] as number) * (bv[p * 40 + j] as number);
        expect(got[i * 40 + j]).toBeCloseTo(s, 4);
      }
    tf.dispose([a, b]);
    expect((await initBackend({ backend: "wasm" })).threads).toBe(1);
  });

  it("gives up on a wasm start that outlasts startTimeoutMs with BackendInitTimeout, and a later start works", async () => {
    // A threaded start waits for 8 pthread workers to boot and answer: never within a zero-delay timer.
    const err = await initBackend({ backend: "wasm", threads: 2, startTimeoutMs: 0 }).catch((e: unknown) => e);
    expect(isRuntimeError(err)).toBe(true);
    expect((err as { code: string }).code).toBe("BackendInitTimeout");
    expect((err as Error).message).toMatch(/wasm backend \(2 threads\): expected it to start within 0 ms/);
    expect(tf.getBackend()).not.toBe("wasm"); // nothing half-made stays active
    const info = await initBackend({ backend: "wasm", threads: 2 });
    expect(info.threads).toBe(2);
    const got = tf.tidy(() =>
      tf.matMul(tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]), tf.tensor2d([7, 8, 9, 10, 11, 12], [3, 2])).dataSync(),
    );
    expect(Array.from(got)).toEqual([58, 64, 139, 154]);
    expect((await initBackend({ backend: "wasm" })).threads).toBe(1);
  });

  it("refuses a start timeout that is not a finite number of milliseconds >= 0", async () => {
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
      await initBackend({ backend: "cpu" });
      const err = await initBackend({ backend: "wasm", startTimeoutMs: bad }).catch((e: unknown) => e);
      expect((err as { code?: string }).code).toBe("InvalidArgument");
      expect((err as Error).message).toMatch(/startTimeoutMs: expected a finite number/);
    }
  });

  it("takes the thread count from LOWRANK_WASM_THREADS when none is given, and refuses a bad one", async () => {
    const saved = process.env.LOWRANK_WASM_THREADS;
    try {
      process.env.LOWRANK_WASM_THREADS = "2";
      expect((await initBackend({ backend: "wasm" })).threads).toBe(2);
      expect((await initBackend({ backend: "wasm", threads: 1 })).threads).toBe(1); // an explicit option wins
      process.env.LOWRANK_WASM_THREADS = "two";
      const err = await initBackend({ backend: "wasm" }).catch((e: unknown) => e);
      expect((err as { code?: string }).code).toBe("InvalidArgument");
      expect(String((err as Error).message)).toMatch(/LOWRANK_WASM_THREADS.*"two"/);
    } finally {
      if (saved === undefined) delete process.env.LOWRANK_WASM_THREADS;
      else process.env.LOWRANK_WASM_THREADS = saved;
    }
    expect((await initBackend({ backend: "wasm" })).threads).toBe(1);
  });

  it("parses thread counts as typed", () => {
    expect(parseThreads("auto", "--threads")).toBe(true);
    expect(parseThreads(" 4 ", "--threads")).toBe(4);
    for (const bad of ["0", "-1", "1.5", "", "1e3", "1000", "lots"])
      expect(() => parseThreads(bad, "--threads")).toThrow(/--threads: expected a thread count/);
  });
});
