import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import { useBackend } from "../../test/useBackend.js";
import { Engine } from "./Engine.js";
import {
  createSyntheticMlp,
  type SyntheticAdapterSpec,
  seededValues,
  syntheticAdapter,
  syntheticAdapterArrays,
} from "./synthetic.js";
import { mlpArrays, referenceMlp } from "./testing.js";
import { BASE_ADAPTER, type ForwardResult, type ServableBase } from "./types.js";

const DIMS = [48, 64, 40, 32];

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

/** 32 adapters: ranks 2/4/8/16, some adapting only some modules. */
function specs(base: ServableBase): Array<SyntheticAdapterSpec & { name: string }> {
  const names = [...base.linearModules.keys()];
  return Array.from({ length: 32 }, (_, i) => ({
    name: `tenant-${i}`,
    rank: [2, 4, 8, 16][i % 4] as number,
    seed: 100 + i,
    alpha: i % 3 === 0 ? 8 : undefined,
    modules: i % 5 === 0 ? names.filter((_, j) => j !== 1) : undefined,
    digest: `sha256-tenant-${i}`,
  }));
}

for (const backend of ["cpu", "wasm"] as const) {
  describe(`Engine on ${backend}`, () => {
    useBackend(backend);

    it("batches 32 adapters with mixed ranks and scales plus __base__ rows; each row equals the request run alone and the reference", async () => {
      const start = tf.memory().numTensors;
      const base = createSyntheticMlp({ dims: DIMS, seed: 3 });
      // Manual flush: the 64 requests form one batch whatever the machine's timing.
      const engine = new Engine({ maxBatchSize: 64, flush: "manual", cacheBytes: 64 * 2 ** 20 });
      const run = async (r: Parameters<Engine["forward"]>[0]) => {
        const p = engine.forward(r);
        await engine.flush();
        return p;
      };
      let baseLoads = 0;
      engine.addBase("mlp", () => {
        baseLoads++;
        return base;
      });
      const all = specs(base);
      for (const s of all) engine.registerAdapter(s.name, { kind: "custom", load: (b) => syntheticAdapter(b, s) });
      const ref = mlpArrays(base);
      const rows = Array.from({ length: 64 }, (_, i) => ({
        adapter: i >= 32 && i % 8 === 7 ? BASE_ADAPTER : (all[i % 32] as { name: string }).name,
        // by digest for some rows once known is covered below; scales vary, including 0 and negative
        scale: [1, 0.5, 2, -1, 0][i % 5] as number,
        input: seededValues(9000 + i, DIMS[0] as number),
      }));
      await engine.getBase(); // loaded once, so the forwards below queue at once
      const pending = rows.map((r) => engine.forward({ adapter: r.adapter, scale: r.scale, input: r.input }));
      expect(engine.stats()).toMatchObject({ queued: 64, batches: 0 });
      await engine.flush();
      const batched = await Promise.all(pending);
      expect(engine.stats().largestBatch).toBe(64);
      const alone: ForwardResult[] = [];
      for (const r of rows) alone.push(await run({ adapter: r.adapter, scale: r.scale, input: r.input }));
      expect(alone.every((a) => a.batchSize === 1)).toBe(true);
      rows.forEach((r, i) => {
        const spec = all.find((s) => s.name === r.adapter);
        const expected = referenceMlp(ref, r.input, spec ? syntheticAdapterArrays(base, spec) : undefined, r.scale);
        const b = batched[i] as ForwardResult;
        expect(b.shape).toEqual([DIMS[DIMS.length - 1]]);
        expect(maxAbsDiff(b.data, (alone[i] as ForwardResult).data)).toBeLessThan(1e-5);
        expect(maxAbsDiff(b.data, expected)).toBeLessThan(1e-4);
      });
      // a rank-0 scale row equals the base row exactly
      const plain = referenceMlp(ref, rows[4]?.input as Float32Array);
      expect(maxAbsDiff((batched[4] as ForwardResult).data, plain)).toBeLessThan(1e-4);
      // requests by digest resolve to the same adapter
      const byDigest = await run({
        adapter: "sha256-tenant-3",
        scale: 1,
        input: rows[0]?.input as Float32Array,
      });
      const byName = await run({ adapter: "tenant-3", scale: 1, input: rows[0]?.input as Float32Array });
      expect(Array.from(byDigest.data)).toEqual(Array.from(byName.data));
      expect(baseLoads).toBe(1);
      expect(engine.stats()).toMatchObject({ baseLoads: 1 });
      const used = new Set(rows.map((r) => r.adapter).filter((a) => a !== BASE_ADAPTER));
      expect(used.size).toBe(32);
      expect(engine.stats().cache.loads).toBe(used.size); // each adapter loaded once, never per request
      await engine.close();
      expect(tf.memory().numTensors).toBe(start);
    });

    it("merged mode gives the unmerged results, switches by merging/unmerging, and restores the base exactly", async () => {
      const base = createSyntheticMlp({ dims: [16, 24, 8], seed: 5 });
      const merged = new Engine({ mode: "merged", maxWaitMs: 1 });
      const unmerged = new Engine({ maxWaitMs: 1 });
      let loads = 0;
      const base2 = createSyntheticMlp({ dims: [16, 24, 8], seed: 5 });
      merged.addBase("b", () => {
        loads++;
        return base;
      });
      unmerged.addBase("b", base2);
      for (const e of [merged, unmerged]) {
        e.registerAdapter("x", { kind: "custom", load: (b) => syntheticAdapter(b, { rank: 4, seed: 1 }) });
        e.registerAdapter("y", { kind: "custom", load: (b) => syntheticAdapter(b, { rank: 2, seed: 2 }) });
      }
      const input = seededValues(77, 16);
      const plain = await merged.forward({ input });
      for (const [adapter, scale] of [
        ["x", 1],
        ["y", 0.5],
        ["x", 1],
        ["x", 2],
        [BASE_ADAPTER, 1],
      ] as const) {
        const m = await merged.forward({ adapter, scale, input });
        const u = await unmerged.forward({ adapter, scale, input });
        expect(maxAbsDiff(m.data, u.data)).toBeLessThan(1e-4);
      }
      const after = await merged.forward({ input });
      expect(Array.from(after.data)).toEqual(Array.from(plain.data));
      expect(merged.stats()).toMatchObject({ merges: 4, unmerges: 4, baseLoads: 1 });
      expect(loads).toBe(1);
      await merged.close();
      await unmerged.close();
    });
  });
}
