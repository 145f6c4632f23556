import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import { isRuntimeError } from "../backend/errors.js";
import { Engine } from "./Engine.js";
import { createSyntheticMlp, seededValues, syntheticAdapter, syntheticAdapterArrays } from "./synthetic.js";
import { mlpArrays, referenceMlp } from "./testing.js";
import type { AdapterWeights } from "./types.js";

const DIMS = [16, 24, 8];
const L0 = "transformer.h.0.mlp.c_fc";
const L1 = "transformer.h.0.mlp.c_proj";

async function outcome(p: Promise<unknown>): Promise<{ ok: true } | { ok: false; code: string; message: string }> {
  try {
    await p;
    return { ok: true };
  } catch (e) {
    if (!isRuntimeError(e)) throw e;
    return { ok: false, code: e.code, message: e.message };
  }
}

describe("Engine faults", () => {
  it("a corrupt or mismatched adapter fails only its own requests, naming the adapter and the layer", async () => {
    const base = createSyntheticMlp({ dims: DIMS, seed: 2 });
    const engine = new Engine({ maxBatchSize: 16, flush: "manual" });
    engine.addBase("b", base);
    engine.registerAdapter("good", { kind: "custom", load: (b) => syntheticAdapter(b, { rank: 4, seed: 1 }) });
    engine.registerAdapter("nan", {
      kind: "custom",
      load: (b) => {
        const w = syntheticAdapter(b, { rank: 4, seed: 2 });
        const m = w.modules.get(L1) as { b: tf.Tensor2D };
        const bad = m.b.dataSync().slice();
        bad[3] = Number.NaN;
        m.b.dispose();
        m.b = tf.tensor2d(bad, [DIMS[2] as number, 4]);
        return w;
      },
    });
    engine.registerAdapter("wrong-shape", {
      kind: "custom",
      load: (): AdapterWeights => ({
        modules: new Map([[L1, { a: tf.zeros([4, 99]), b: tf.zeros([8, 4]), scaling: 1 }]]),
      }),
    });
    engine.registerAdapter("wrong-module", {
      kind: "custom",
      load: (): AdapterWeights => ({
        modules: new Map([["transformer.h.9.attn.c_attn", { a: tf.zeros([2, 16]), b: tf.zeros([24, 2]), scaling: 1 }]]),
      }),
    });
    engine.registerAdapter("unreadable", {
      kind: "custom",
      load: () => Promise.reject(new Error("header: expected JSON, found bytes 0x00")),
    });
    engine.registerAdapter("no-loader", { kind: "folder", path: "/nowhere" });
    const input = seededValues(5, 16);
    const names = ["good", "nan", "good", "wrong-shape", "wrong-module", "unreadable", "no-loader", "__base__"];
    const before = tf.memory().numTensors;
    const pending = Promise.all(names.map((adapter) => outcome(engine.forward({ adapter, input }))));
    await engine.flush(); // all eight in one batch: the failures must stay with their own rows
    const results = await pending;
    expect(results.map((r) => r.ok)).toEqual([true, false, true, false, false, false, false, true]);
    expect(engine.stats()).toMatchObject({ batches: 1, largestBatch: 2 + 1 }); // the rows whose adapters loaded
    const fail = (i: number) => results[i] as { code: string; message: string };
    expect(fail(1)).toMatchObject({ code: "AdapterLoadFailed" });
    expect(fail(1).message).toContain("'nan'");
    expect(fail(1).message).toContain(L1);
    expect(fail(3)).toMatchObject({ code: "AdapterMismatch" });
    expect(fail(3).message).toMatch(/'wrong-shape'.*transformer\.h\.0\.mlp\.c_proj.*\[4,99\]/);
    expect(fail(4)).toMatchObject({ code: "AdapterMismatch" });
    expect(fail(4).message).toContain("transformer.h.9.attn.c_attn");
    expect(fail(5)).toMatchObject({ code: "AdapterLoadFailed" });
    expect(fail(5).message).toContain("'unreadable'");
    expect(fail(5).message).toContain("expected JSON");
    expect(fail(6)).toMatchObject({ code: "AdapterLoadFailed" });
    // the engine keeps serving, with the right numbers
    const next = engine.forward({ adapter: "good", input });
    await engine.flush();
    const ok = await next;
    const expected = referenceMlp(mlpArrays(base), input, syntheticAdapterArrays(base, { rank: 4, seed: 1 }));
    ok.data.forEach((v, i) => {
      expect(v).toBeCloseTo(expected[i] as number, 4);
    });
    // failed loads left no tensors behind: only the good adapter (2 modules x A,B) is resident
    expect(tf.memory().numTensors - before).toBe(4);
    await engine.close();
  });

  it("a batch whose output cannot be read fails its requests and frees the output tensor", async () => {
    const base = createSyntheticMlp({ dims: DIMS, seed: 4 });
    const forward = base.forward.bind(base);
    // A device read that fails (a lost GPU context...): the batch output's data() rejects.
    base.forward = (x, linear) => {
      const out = forward(x, linear);
      out.data = () => Promise.reject(new Error("read: device lost"));
      return out;
    };
    const engine = new Engine({ maxWaitMs: 0 });
    engine.addBase("b", base);
    try {
      const input = seededValues(5, 16);
      const before = tf.memory().numTensors;
      await expect(engine.forward({ input })).rejects.toThrow(/device lost/);
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      await engine.close();
    }
  });

  it("a cancelled request frees its queue slot and is rejected with Cancelled", async () => {
    const engine = new Engine({ maxBatchSize: 8, flush: "manual", maxQueued: 2 });
    engine.addBase("b", createSyntheticMlp({ dims: DIMS }));
    const input = seededValues(1, 16);
    const abort = new AbortController();
    const first = outcome(engine.forward({ input, signal: abort.signal }));
    const second = engine.forward({ input });
    expect(await outcome(engine.forward({ input }))).toMatchObject({ ok: false, code: "Overloaded" });
    abort.abort();
    expect(await first).toMatchObject({ ok: false, code: "Cancelled" });
    expect(engine.stats().queued).toBe(1);
    const third = engine.forward({ input });
    await engine.flush();
    const [a, b] = await Promise.all([second, third]);
    expect(a.batchSize).toBe(2);
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
    const pre = new AbortController();
    pre.abort();
    expect(await outcome(engine.forward({ input, signal: pre.signal }))).toMatchObject({
      ok: false,
      code: "Cancelled",
    });
    // close cancels what is still queued
    const queued = outcome(engine.forward({ input }));
    await engine.close();
    expect(await queued).toMatchObject({ ok: false, code: "Cancelled" });
  });

  it("memory returns to its starting level after a load test with evictions, failures and cancellations", async () => {
    const start = tf.memory();
    const base = createSyntheticMlp({ dims: DIMS, seed: 4 });
    const oneAdapterBytes = (4 * (16 + 24) + 4 * (24 + 8)) * 4;
    const engine = new Engine({ maxBatchSize: 16, maxWaitMs: 1, cacheBytes: 3 * oneAdapterBytes });
    engine.addBase("b", base);
    for (let i = 0; i < 10; i++)
      engine.registerAdapter(`a${i}`, { kind: "custom", load: (b) => syntheticAdapter(b, { rank: 4, seed: i }) });
    engine.registerAdapter("broken", {
      kind: "custom",
      load: () => ({ modules: new Map([[L0, { a: tf.zeros([2, 3]), b: tf.zeros([24, 2]), scaling: 1 }]]) }),
    });
    const input = seededValues(3, 16);
    let settledSteady = 0;
    for (let round = 0; round < 5; round++) {
      const jobs = Array.from({ length: 40 }, (_, i) => {
        const ctl = new AbortController();
        const p = outcome(
          engine.forward({
            adapter: i % 13 === 12 ? "broken" : `a${(i * 7 + round) % 10}`,
            scale: (i % 3) - 0.5,
            input,
            signal: ctl.signal,
          }),
        );
        if (i % 11 === 4) ctl.abort();
        return p;
      });
      const res = await Promise.all(jobs);
      expect(res.filter((r) => !r.ok && r.code === "Cancelled").length).toBe(4);
      expect(res.filter((r) => !r.ok && r.code === "AdapterMismatch").length).toBe(3);
      settledSteady = tf.memory().numTensors;
      // between rounds: the base's tensors plus at most the cache budget's adapters, nothing else
      expect(engine.stats().cache.bytes).toBeLessThanOrEqual(3 * oneAdapterBytes);
      expect(settledSteady - start.numTensors).toBe(4 + 4 * engine.stats().cache.entries);
    }
    expect(engine.stats().cache.evictions).toBeGreaterThan(5);
    await engine.close();
    expect(tf.memory().numTensors).toBe(start.numTensors);
    expect(tf.memory().numBytes).toBe(start.numBytes);
  });
});
