/**
 * Serving engine benchmarks (wasm): heterogeneous LoRA batches vs one adapter and vs a naive loop,
 * adapter hot-swap latency, memory with 100 adapters resident, and `lowrank serve` throughput.
 */

import {
  BASE_ADAPTER,
  createSyntheticMlp,
  Engine,
  type LoraBatchKernel,
  LoraBatchPlan,
  mlpArrays,
  type RowAdapter,
  referenceMlp,
  seededValues,
  startEngineServer,
  syntheticAdapter,
  syntheticAdapterArrays,
} from "@lowrank/runtime";
import * as tf from "@tensorflow/tfjs-core";
import { type BenchGroup, defineSuite } from "../harness.js";

const N = 64;
const D = 1024;
const R = 16;
const owned: tf.Tensor[] = [];
const keep = <T extends tf.Tensor>(t: T): T => {
  owned.push(t);
  return t;
};

function adapterModules(
  count: number,
): Array<Map<string, { A: tf.Tensor2D; B: tf.Tensor2D; rank: number; scaling: number }>> {
  return Array.from({ length: count }, (_, i) => {
    const A = keep(tf.tensor2d(seededValues(10 + i, D * R, 0.03), [D, R]));
    const B = keep(tf.tensor2d(seededValues(500 + i, R * D, 0.03), [R, D]));
    return new Map([["layer", { A, B, rank: R, scaling: 2 }]]);
  });
}

/** @lowrank/core's bgmvAdapters as the engine runs it: on wasm, each adapter's own A and B on its own rows. */
const gathered: LoraBatchKernel = "auto";
/** bgmvAdapters' `kernel` path: the batch's adapters stacked (zero-padded) on every call, then bgmv. */
const stackedPerBatch: LoraBatchKernel = "kernel";

/** One linear layer over the batch: x·W once, plus each row's LoRA term. */
function batched(x: tf.Tensor2D, W: tf.Tensor2D, rows: RowAdapter[], kernel: LoraBatchKernel = gathered): void {
  const y = tf.tidy(() => {
    const base = tf.matMul(x, W);
    const delta = new LoraBatchPlan(rows, kernel).delta("layer", x, D);
    return delta ? tf.add(base, delta) : base;
  });
  y.dataSync();
  y.dispose();
}

/** The naive way: one forward per adapter group (slice the group's rows, x_g·W + x_g·A·B). */
function naive(x: tf.Tensor2D, W: tf.Tensor2D, rows: RowAdapter[]): void {
  const y = tf.tidy(() => {
    const groups = new Map<RowAdapter["modules"], number[]>();
    rows.forEach((r, i) => {
      groups.set(r.modules, [...(groups.get(r.modules) ?? []), i]);
    });
    const parts: tf.Tensor[] = [];
    for (const [mods, idx] of groups) {
      const xg = tf.gather(x, tf.tensor1d(idx, "int32"));
      const m = mods?.get("layer");
      parts.push(
        m ? tf.add(tf.matMul(xg, W), tf.mul(tf.matMul(tf.matMul(xg, m.A), m.B), m.scaling)) : tf.matMul(xg, W),
      );
    }
    return tf.concat(parts);
  });
  y.dataSync();
  y.dispose();
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number;
}

async function hotSwap(): Promise<
  Array<{ name: string; value: number; unit: string; reference?: { name: string; value: number } }>
> {
  const engine = new Engine({ maxWaitMs: 0 });
  engine.addBase("b", createSyntheticMlp({ dims: [D, D] }));
  for (let i = 0; i < 8; i++)
    engine.registerAdapter(`a${i}`, { kind: "custom", load: (b) => syntheticAdapter(b, { rank: R, seed: i }) });
  for (let i = 0; i < 8; i++) await engine.loadAdapter(`a${i}`);
  const input = seededValues(1, D);
  const time = async (adapter: (i: number) => string) => {
    const t: number[] = [];
    for (let i = 0; i < 200; i++) {
      const s = performance.now();
      await engine.forward({ adapter: adapter(i), input });
      t.push(performance.now() - s);
    }
    return t.sort((a, b) => a - b);
  };
  await time(() => "a0");
  const same = await time(() => "a0");
  const swap = await time((i) => `a${i % 8}`);
  const mergedEngine = new Engine({ mode: "merged", maxWaitMs: 0 });
  mergedEngine.addBase("b", createSyntheticMlp({ dims: [D, D] }));
  for (let i = 0; i < 2; i++)
    mergedEngine.registerAdapter(`m${i}`, { kind: "custom", load: (b) => syntheticAdapter(b, { rank: R, seed: i }) });
  for (let i = 0; i < 2; i++) await mergedEngine.loadAdapter(`m${i}`);
  const merged: number[] = [];
  for (let i = 0; i < 40; i++) {
    const s = performance.now();
    await mergedEngine.forward({ adapter: `m${i % 2}`, input });
    merged.push(performance.now() - s);
  }
  merged.sort((a, b) => a - b);
  await engine.close();
  await mergedEngine.close();
  const p50Same = percentile(same, 0.5);
  return [
    { name: "unmerged, same adapter each request p50", value: p50Same, unit: "ms" },
    {
      name: "unmerged, switching among 8 adapters p50",
      value: percentile(swap, 0.5),
      unit: "ms",
      reference: { name: "same adapter p50", value: p50Same },
    },
    { name: "unmerged, switching among 8 adapters p99", value: percentile(swap, 0.99), unit: "ms" },
    { name: "swap cost (switch p50 - same p50)", value: percentile(swap, 0.5) - p50Same, unit: "ms" },
    {
      name: "merged mode, switching every request p50",
      value: percentile(merged, 0.5),
      unit: "ms",
      reference: { name: "same adapter p50", value: p50Same },
    },
    { name: "merged mode, switching every request p99", value: percentile(merged, 0.99), unit: "ms" },
  ];
}

async function memory100() {
  const start = tf.memory().numBytes;
  const engine = new Engine({ cacheBytes: 2 ** 30 });
  const base = createSyntheticMlp({ dims: [D, D, D] });
  const baseBytes = tf.memory().numBytes - start;
  engine.addBase("b", base);
  for (let i = 0; i < 100; i++)
    engine.registerAdapter(`a${i}`, { kind: "custom", load: (b) => syntheticAdapter(b, { rank: R, seed: i }) });
  for (let i = 0; i < 100; i++) await engine.loadAdapter(`a${i}`);
  const oneAdapter = 2 * (D * R + R * D) * 4;
  const total = tf.memory().numBytes - start;
  await engine.close();
  const mb = (b: number) => b / 2 ** 20;
  return [
    { name: "base alone", value: mb(baseBytes), unit: "MiB" },
    {
      name: "base + 100 adapters resident",
      value: mb(total),
      unit: "MiB",
      reference: { name: "base + 100 x adapter size", value: mb(baseBytes + 100 * oneAdapter) },
    },
    { name: "leftover after close", value: mb(tf.memory().numBytes - start), unit: "MiB" },
  ];
}

async function serveThroughput() {
  const dims = [64, 64, 64];
  const engine = new Engine({ maxWaitMs: 2, maxBatchSize: 32 });
  const base = createSyntheticMlp({ dims });
  engine.addBase("b", base);
  const specs = Array.from({ length: 20 }, (_, i) => ({ rank: 4 + (i % 3) * 4, seed: i }));
  specs.forEach((s, i) => {
    engine.registerAdapter(`t${i}`, { kind: "custom", load: (b) => syntheticAdapter(b, s) });
  });
  const server = await startEngineServer({ engine, port: 0 });
  const ref = mlpArrays(base);
  const expected = specs.map((s) => syntheticAdapterArrays(base, s));
  const total = 400;
  const concurrency = 32;
  let next = 0;
  let wrong = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        const k = i % 21;
        const adapter = k === 20 ? BASE_ADAPTER : `t${k}`;
        const input = Array.from(seededValues(i, 64));
        const res = await fetch(`${server.url}/v1/forward`, {
          method: "POST",
          body: JSON.stringify({ adapter, scale: 1, input }),
        });
        const body = (await res.json()) as { output: number[] };
        const want = referenceMlp(ref, input, k === 20 ? undefined : expected[k]);
        if (!body.output?.every((v, o) => Math.abs(v - (want[o] as number)) < 1e-4)) wrong++;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const batches = engine.stats().batches;
  await server.close();
  if (wrong) throw new Error(`${wrong} of ${total} responses differed from their expected output`);
  return [
    {
      name: `${total} requests, ${concurrency} concurrent, 20 adapters + base (all checked)`,
      value: total / seconds,
      unit: "req/s",
    },
    { name: "mean rows per batch", value: total / batches, unit: "rows" },
  ];
}

export default defineSuite({
  name: "runtime",
  backend: "wasm",
  dispose: () => {
    tf.dispose(owned.splice(0));
  },
  groups: async () => {
    const x = keep(tf.tensor2d(seededValues(3, N * D), [N, D]));
    const W = keep(tf.tensor2d(seededValues(4, D * D, 0.03), [D, D]));
    const mods = adapterModules(64);
    const rowsFor = (k: number): RowAdapter[] =>
      Array.from({ length: N }, (_, i) => ({ modules: mods[i % k] ?? null, scale: 1 }));
    let shift = 0;
    /** k adapters per batch, but a new set (and order) on each call, as a server's mixes are. */
    const rowsShifted = (k: number): RowAdapter[] => {
      shift = (shift + 7) % mods.length;
      return Array.from({ length: N }, (_, i) => ({
        modules: mods[((i % k) * 3 + shift) % mods.length] ?? null,
        scale: 1,
      }));
    };
    const groups: BenchGroup[] = [
      {
        name: `LoRA batch ${N} rows, d=${D}, r=${R}: distinct adapters vs one`,
        goal: "≤ 1.3x at 32",
        time: 600,
        cases: [
          { name: "1 adapter", baseline: true, fn: () => batched(x, W, rowsFor(1)) },
          { name: "8 adapters", fn: () => batched(x, W, rowsFor(8)) },
          { name: "32 adapters", fn: () => batched(x, W, rowsFor(32)) },
          { name: "64 adapters", fn: () => batched(x, W, rowsFor(64)) },
          { name: "32 adapters, a different 32 of 64 every batch", fn: () => batched(x, W, rowsShifted(32)) },
          {
            name: "32 adapters, bgmvAdapters kernel path (per-batch stacks, then bgmv)",
            fn: () => batched(x, W, rowsFor(32), stackedPerBatch),
          },
          {
            name: "32 adapters, portable path (stacked batched matmuls)",
            fn: () => batched(x, W, rowsFor(32), "portable"),
          },
          {
            name: "base only (no LoRA)",
            fn: () =>
              batched(
                x,
                W,
                rowsFor(1).map((r) => ({ ...r, modules: null })),
              ),
          },
        ],
      },
      {
        name: `LoRA batch ${N} rows, 32 adapters: batched vs naive loop per adapter group`,
        goal: "naive ≥ 4x",
        time: 600,
        cases: [
          { name: "batched (one x·W, gathered LoRA)", baseline: true, fn: () => batched(x, W, rowsFor(32)) },
          { name: "naive loop (one forward per group)", fn: () => naive(x, W, rowsFor(32)) },
        ],
      },
      { name: `hot-swap latency, 1 request, d=${D}`, goal: "swap < 1 ms unmerged", values: hotSwap },
      {
        name: `memory, 100 adapters r=${R} on a 2-layer d=${D} base`,
        goal: "= base + 100 x adapter",
        values: memory100,
      },
      { name: "lowrank serve throughput (HTTP, loopback)", values: serveThroughput },
    ];
    return groups;
  },
});
