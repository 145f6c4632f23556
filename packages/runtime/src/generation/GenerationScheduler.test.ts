import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Engine } from "../engine/Engine.js";
import { syntheticAdapter } from "../engine/synthetic.js";
import { BASE_ADAPTER } from "../engine/types.js";
import type { Gpt2 } from "../models/Gpt2.js";
import { type GenerationRequest, GenerationScheduler } from "./GenerationScheduler.js";
import { createSyntheticGpt2 } from "./syntheticGpt2.js";

const ADAPTERS = ["a1", "a2", "a3"];
let model: Gpt2;
let engine: Engine;
let bytesPerToken: number;

beforeAll(async () => {
  model = createSyntheticGpt2({ vocab: 97, dim: 64, layers: 2, heads: 4, positions: 128, seed: 3 });
  bytesPerToken = 2 * 2 * 64 * 4;
  engine = new Engine();
  engine.addBase("gpt", model);
  ADAPTERS.forEach((name, i) => {
    engine.registerAdapter(name, { kind: "custom", load: (base) => syntheticAdapter(base, { rank: 4, seed: i + 1 }) });
  });
  for (let i = 0; i < 14; i++)
    engine.registerAdapter(`b${i}`, {
      kind: "custom",
      load: (base) => syntheticAdapter(base, { rank: 2 + (i % 3) * 2, seed: 50 + i }),
    });
  // Resident adapters stay in the engine's cache; load them first so tensor counts compare like with like.
  for (const name of ADAPTERS) await engine.loadAdapter(name);
});
afterAll(async () => {
  await engine.close();
});

const req = (adapter: string, promptIds: number[], maxNewTokens: number, extra: Partial<GenerationRequest> = {}) => ({
  adapter,
  promptIds,
  maxNewTokens,
  eosTokenId: null,
  ...extra,
});

async function solo(r: GenerationRequest): Promise<number[]> {
  const s = new GenerationScheduler(engine);
  try {
    return (await s.generate(r)).tokens;
  } finally {
    await s.close();
  }
}

describe("GenerationScheduler (continuous batching over a synthetic GPT-2)", () => {
  it("a long request and short ones for other adapters: the short ones join mid-flight, finish first, and equal their solo runs", async () => {
    const before = tf.memory().numTensors;
    const s = new GenerationScheduler(engine);
    const order: string[] = [];
    let joined!: () => void;
    const longStarted = new Promise<void>((resolve) => {
      joined = resolve;
    });
    const longReq = req("a1", [1, 2, 3, 4], 40, {
      onToken: (_t, i) => {
        if (i === 2) joined();
        return undefined;
      },
    });
    const long = s.generate(longReq).then((r) => {
      order.push("long");
      return r;
    });
    await longStarted;
    const shortReqs = [
      req("a2", [7, 8], 6),
      req("a3", [9, 10, 11, 12, 13, 14], 6),
      req(BASE_ADAPTER, [5], 6),
      req("a1", [20, 21, 22], 6, { scale: 0.5 }),
    ];
    const shorts = shortReqs.map((r, i) =>
      s.generate(r).then((x) => {
        order.push(`short${i}`);
        return x;
      }),
    );
    const results = await Promise.all([long, ...shorts]);
    expect(order.at(-1)).toBe("long");
    expect(results[0]?.tokens).toHaveLength(40);
    expect(s.stats().largestStep).toBe(5);
    const expected = await Promise.all([longReq, ...shortReqs].map((r) => solo({ ...r, onToken: undefined })));
    results.forEach((r, i) => {
      expect(r.tokens).toEqual(expected[i]);
    });
    // Different adapters give different text, so equality is not one dominant token.
    expect(new Set(expected.slice(1).map((t) => t.join(","))).size).toBe(4);
    await s.close();
    expect(s.stats()).toMatchObject({ running: 0, waiting: 0, kvBytesReserved: 0 });
    expect(tf.memory().numTensors).toBe(before);
  });

  it("a decode batch with many distinct adapters (stacked per-row adapters, mixed ranks) equals each solo run", async () => {
    const s = new GenerationScheduler(engine);
    const reqs = Array.from({ length: 16 }, (_, i) =>
      req(i < 14 ? `b${i}` : BASE_ADAPTER, [i + 1, (i * 7) % 97, 3], 8, { scale: i === 3 ? 0.5 : 1 }),
    );
    const together = await Promise.all(reqs.map((r) => s.generate(r)));
    expect(s.stats().largestStep).toBe(16);
    await s.close();
    for (const [i, r] of reqs.entries()) expect(together[i]?.tokens).toEqual(await solo(r));
    const recomputed = await engine.generate({ adapter: "b5", inputIds: [6, 35, 3], maxNewTokens: 8 });
    expect(together[5]?.tokens).toEqual(recomputed.generated);
  });

  it("greedy KV-cached output equals the engine's recompute path (no cache) for an adapter and __base__", async () => {
    for (const adapter of ["a2", BASE_ADAPTER]) {
      const cached = await solo(req(adapter, [3, 1, 4, 1, 5], 12));
      const recomputed = await engine.generate({ adapter, inputIds: [3, 1, 4, 1, 5], maxNewTokens: 12 });
      expect(cached).toEqual(recomputed.generated);
    }
  });

  it("keeps the KV caches within the byte budget: extra requests wait in the queue, then run", async () => {
    const per = (3 + 10) * bytesPerToken;
    const s = new GenerationScheduler(engine, { kvBytes: 2 * per });
    let most = 0;
    const reqs = ADAPTERS.concat(BASE_ADAPTER).map((a, i) =>
      req(a, [i + 1, i + 2, i + 3], 10, {
        onToken: () => {
          most = Math.max(most, s.stats().kvBytesReserved / per);
          return undefined;
        },
      }),
    );
    const out = await Promise.all(reqs.map((r) => s.generate(r)));
    expect(most).toBe(2);
    for (const [i, r] of reqs.entries()) expect(out[i]?.tokens).toEqual(await solo({ ...r, onToken: undefined }));
    await s.close();
  });

  it("answers Overloaded when the queue is full, and rejects what can never fit the budget", async () => {
    const s = new GenerationScheduler(engine, { kvBytes: 20 * bytesPerToken, maxQueued: 1 });
    let started!: () => void;
    const first = new Promise<void>((r) => {
      started = r;
    });
    const a = s.generate(
      req("a1", [1, 2], 15, {
        onToken: () => {
          started();
          return undefined;
        },
      }),
    );
    await first;
    const b = s.generate(req("a2", [1, 2], 15));
    await expect(s.generate(req("a3", [1, 2], 15))).rejects.toMatchObject({ code: "Overloaded" });
    await expect(s.generate(req("a3", [1, 2], 30))).rejects.toMatchObject({ code: "InvalidArgument" });
    await Promise.all([a, b]);
    await s.close();
  });

  it("a cancelled request leaves at the next step and frees its slot and cache; the others go on", async () => {
    const s = new GenerationScheduler(engine);
    const ctl = new AbortController();
    let seen = 0;
    const cancelled = s.generate(
      req("a1", [1, 2, 3], 60, {
        signal: ctl.signal,
        onToken: (_t, i) => {
          seen = i + 1;
          if (i === 2) ctl.abort();
          return undefined;
        },
      }),
    );
    const other = s.generate(req("a2", [4, 5], 10));
    await expect(cancelled).rejects.toMatchObject({ code: "Cancelled" });
    expect(seen).toBe(3);
    expect(s.stats().running).toBeLessThanOrEqual(1);
    expect((await other).tokens).toEqual(await solo(req("a2", [4, 5], 10)));
    expect(s.stats()).toMatchObject({ running: 0, kvBytesReserved: 0 });
    await s.close();
  });

  it("the same seed samples the same text alone or batched with others; another seed differs", async () => {
    const sampled = req("a3", [2, 7, 1], 16, { temperature: 1.2, topK: 40, topP: 0.95, seed: 42 });
    const alone = await solo(sampled);
    const s = new GenerationScheduler(engine);
    const together = await Promise.all([
      s.generate(sampled),
      s.generate(req("a1", [9, 9], 16, { temperature: 1, seed: 1 })),
      s.generate(req(BASE_ADAPTER, [4], 16)),
    ]);
    expect(together[0]?.tokens).toEqual(alone);
    expect(await solo({ ...sampled, seed: 43 })).not.toEqual(alone);
    await s.close();
  });

  it("stops at end-of-text and when a stop rule says so", async () => {
    const greedy = await solo(req("a1", [1, 2], 8));
    const s = new GenerationScheduler(engine);
    const eos = await s.generate(req("a1", [1, 2], 8, { eosTokenId: greedy[2] as number }));
    expect(eos).toMatchObject({
      finishReason: "eos",
      tokens: greedy.slice(0, greedy.indexOf(greedy[2] as number) + 1),
    });
    const stop = await s.generate(req("a1", [1, 2], 8, { onToken: (_t, i) => (i === 4 ? "stop" : undefined) }));
    expect(stop).toMatchObject({ finishReason: "stop", tokens: greedy.slice(0, 5) });
    const len = await s.generate(req("a1", [1, 2], 8));
    expect(len.finishReason).toBe("length");
    await expect(s.generate(req("nope", [1], 2))).rejects.toMatchObject({ code: "NotFound" });
    await expect(s.generate(req("a1", [500], 2))).rejects.toMatchObject({ code: "InvalidArgument" });
    await s.close();
  });
});
