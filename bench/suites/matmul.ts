import { type InitBackendOptions, initBackend, installNodeWebGPU } from "@lowrank/runtime";
import * as tf from "@tensorflow/tfjs-core";
import { type BenchCase, defineSuite } from "../harness.js";

// The seed benchmark: fp32 matmul 1024x1024x1024 on every backend this process can start, in GFLOP/s.
// Each case switches backend in its beforeAll and makes its own operands there.
const N = 1024;
const GFLOP = (2 * N * N * N) / 1e9;

interface Target {
  name: string;
  options: InitBackendOptions;
  prepare?: () => Promise<unknown>;
}

const targets: Target[] = [
  { name: "cpu (pure JS)", options: { backend: "cpu" } },
  { name: "wasm SIMD, 1 thread", options: { backend: "wasm", threads: 1 } },
  { name: "wasm SIMD, 2 threads", options: { backend: "wasm", threads: 2 } },
  { name: "webgpu in Node (Dawn)", options: { backend: "webgpu" }, prepare: () => installNodeWebGPU() },
];

const skipped: string[] = [];

async function available(t: Target): Promise<boolean> {
  try {
    await t.prepare?.();
    await initBackend(t.options);
    return true;
  } catch (error) {
    skipped.push(`${t.name}: ${error instanceof Error ? error.message : String(error)}`);
    return false;
  }
}

function matmulCase(t: Target, baseline: boolean): BenchCase {
  let a: tf.Tensor2D | undefined;
  let b: tf.Tensor2D | undefined;
  return {
    name: t.name,
    baseline,
    work: { amount: GFLOP, unit: "GFLOP/s" },
    beforeAll: async () => {
      await initBackend(t.options);
      a = tf.randomUniform([N, N], -1, 1, "float32", 1) as tf.Tensor2D;
      b = tf.randomUniform([N, N], -1, 1, "float32", 2) as tf.Tensor2D;
    },
    fn: async () => {
      const c = tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D);
      await c.data(); // async read: webgpu has no fast synchronous read
      c.dispose();
    },
    afterAll: () => {
      tf.dispose([a as tf.Tensor2D, b as tf.Tensor2D]);
    },
  };
}

/** GFLOP/s of the median of `runs` timed calls after one warm-up, for backends too slow for tinybench. */
async function measureGflops(t: Target, runs: number): Promise<number> {
  const c = matmulCase(t, false);
  await c.beforeAll?.();
  try {
    await c.fn();
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const start = performance.now();
      await c.fn();
      times.push(performance.now() - start);
    }
    times.sort((x, y) => x - y);
    return GFLOP / ((times[Math.floor(times.length / 2)] as number) / 1000);
  } finally {
    await c.afterAll?.();
  }
}

const isSlow = (t: Target) => t.options.backend === "cpu" || t.options.backend === "webgpu";

export default defineSuite({
  name: "matmul",
  dispose: async () => {
    await initBackend({ backend: "wasm" });
  },
  groups: async () => {
    const usable: Target[] = [];
    for (const t of targets) if (await available(t)) usable.push(t);
    await initBackend({ backend: "wasm" });
    if (skipped.length) process.stderr.write(`bench matmul: skipped ${skipped.join("; ")}\n`);
    const reference = targets[1] as Target;
    return [
      {
        name: `matmul ${N}x${N}x${N} fp32, wasm`,
        time: 500,
        cases: usable.filter((t) => !isSlow(t)).map((t) => matmulCase(t, t === reference)),
      },
      {
        name: `matmul ${N}x${N}x${N} fp32, slow backends (median of 2 after a warm-up)`,
        values: async () => {
          const ref = { name: reference.name, value: await measureGflops(reference, 5) };
          const out = [];
          for (const t of usable.filter(isSlow))
            out.push({ name: t.name, value: await measureGflops(t, 2), unit: "GFLOP/s", reference: ref });
          await initBackend({ backend: "wasm" });
          return out;
        },
      },
    ];
  },
});
