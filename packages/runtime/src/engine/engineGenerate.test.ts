// Engine.generate on a GPT-2 LM head runs KV-cached on the engine's generation scheduler (no forward
// batches), and gives the same tokens as recomputing the whole sequence each step, greedy or sampled,
// for adapters and the base, alone or concurrently; other causal LMs keep recomputing.
import { afterAll, describe, expect, it } from "vitest";
import { GenerationScheduler } from "../generation/GenerationScheduler.js";
import { kvDecoderFor } from "../generation/KvDecoder.js";
import { createSyntheticGpt2 } from "../generation/syntheticGpt2.js";
import { Engine } from "./Engine.js";
import { createSyntheticCausalLm, syntheticAdapter } from "./synthetic.js";
import { BASE_ADAPTER } from "./types.js";

const gpt2 = () => createSyntheticGpt2({ vocab: 96, dim: 32, layers: 2, heads: 4, positions: 24, seed: 5 });
const model = gpt2();
const engine = new Engine({ maxWaitMs: 0 });
engine.addBase("gpt2", model);
for (const i of [1, 2, 3])
  engine.registerAdapter(`a${i}`, {
    kind: "custom",
    load: (base) => syntheticAdapter(base, { rank: 2 + i, seed: 40 + i, alpha: 8 }),
  });

afterAll(async () => {
  await engine.close();
});

const prompts = [[5, 17, 3], [80, 2, 2, 9, 41, 7], [1]];

describe("Engine.generate on a GPT-2 LM head", () => {
  it("decodes with the KV cache (no forward batch runs) and equals recomputing, greedy and sampled", async () => {
    const cases = prompts.flatMap((p, i) =>
      [BASE_ADAPTER, "a1", "a2", "a3"].map((adapter, j) => ({
        base: "gpt2",
        adapter,
        scale: j === 2 ? 0.5 : 1,
        inputIds: p,
        maxNewTokens: 6 + i,
        ...(j % 2 ? { temperature: 0.9 + i * 0.3, topK: j === 3 ? 7 : 0, seed: 11 * i + j } : {}),
      })),
    );
    const before = engine.stats().batches;
    const kv = await Promise.all(cases.map((c) => engine.generate(c)));
    expect(engine.stats().batches).toBe(before);
    expect(engine.generation.stats().steps).toBeGreaterThan(0);
    expect(engine.generation.stats().largestStep).toBeGreaterThan(1); // concurrent requests shared decode steps
    const recomputed = [];
    for (const c of cases) recomputed.push(await engine.generate({ ...c, recompute: true }));
    expect(engine.stats().batches).toBeGreaterThan(before);
    expect(kv).toEqual(recomputed);
    // The adapters matter, and sampling differs from greedy somewhere (so the comparison could fail).
    expect(new Set(kv.map((r) => r.generated.join())).size).toBeGreaterThan(prompts.length);
  });

  it("stops at the context limit and at end-of-text like the recompute path", async () => {
    const limit = model.hparams.nPositions;
    for (const inputIds of [Array.from({ length: limit - 2 }, (_, i) => (i * 5) % 96), Array(limit).fill(3)]) {
      const kv = await engine.generate({ adapter: "a1", inputIds, maxNewTokens: 10 });
      const re = await engine.generate({ adapter: "a1", inputIds, maxNewTokens: 10, recompute: true });
      expect(kv).toEqual(re);
      expect([kv.finishReason, kv.tokens.length]).toEqual(["length", limit + 1]);
    }
    const free = await engine.generate({ inputIds: [4, 4], maxNewTokens: 5 });
    const eosTokenId = free.generated[2] as number;
    const stopped = await engine.generate({ inputIds: [4, 4], maxNewTokens: 5, eosTokenId });
    const firstAt = free.generated.indexOf(eosTokenId);
    expect(stopped).toEqual({
      tokens: [4, 4, ...free.generated.slice(0, firstAt + 1)],
      generated: free.generated.slice(0, firstAt + 1),
      finishReason: "stop",
    });
    expect(await engine.generate({ inputIds: [4], maxNewTokens: 0 })).toEqual({
      tokens: [4],
      generated: [],
      finishReason: "length",
    });
  });

  it("refuses an overflowing scale with InvalidArgument, as the forward path does", async () => {
    const req = { adapter: "a2", inputIds: [3, 4], maxNewTokens: 2, scale: 1e38 };
    await expect(engine.generate(req)).rejects.toMatchObject({ code: "InvalidArgument", message: /scale/ });
    await expect(engine.generate({ ...req, recompute: true })).rejects.toMatchObject({
      code: "InvalidArgument",
      message: /scale/,
    });
  });
});

describe("Engine.useGenerationScheduler", () => {
  it("takes a scheduler of the same engine before its first generation only", async () => {
    const other = new Engine();
    const fresh = new Engine();
    const refused = new GenerationScheduler(engine);
    other.addBase("gpt2", gpt2()); // an engine disposes its bases when it closes: each gets its own
    const foreign = new GenerationScheduler(other);
    try {
      expect(() => engine.useGenerationScheduler(foreign)).toThrow(/of this engine/);
      expect(() => engine.useGenerationScheduler(refused)).toThrow(/before the engine's first/);
      engine.useGenerationScheduler(engine.generation); // the one in use: fine
      fresh.addBase("gpt2", gpt2());
      const shared = new GenerationScheduler(fresh, { maxRunning: 2 });
      fresh.useGenerationScheduler(shared);
      expect(fresh.generation).toBe(shared);
    } finally {
      await Promise.all([foreign.close(), refused.close(), other.close(), fresh.close()]); // fresh closes `shared`
    }
  });
});

describe("Engine.generate under a small KV budget", () => {
  it("runs a request whose KV reservation exceeds the whole budget by recomputing, as before the KV path", async () => {
    const decoder = kvDecoderFor(model);
    const perToken = decoder?.kvBytesPerToken ?? 0;
    decoder?.dispose();
    expect(perToken).toBeGreaterThan(0);
    const e = new Engine({ maxWaitMs: 0 });
    try {
      e.addBase("gpt2", gpt2()); // the same weights as `model` (same seed)
      e.useGenerationScheduler(new GenerationScheduler(e, { kvBytes: 8 * perToken })); // 8 positions
      const short = { inputIds: [5, 17, 3], maxNewTokens: 5 };
      const long = { inputIds: [80, 2, 2, 9, 41, 7], maxNewTokens: 10 };
      expect(await e.generation.fitsKvBudget(undefined, 3, 5)).toBe(true);
      expect(await e.generation.fitsKvBudget(undefined, 6, 10)).toBe(false);
      // The scheduler alone refuses the long one ...
      await expect(
        e.generation.generate({ promptIds: long.inputIds, maxNewTokens: long.maxNewTokens }),
      ).rejects.toMatchObject({ code: "InvalidArgument", message: /KV budget/ });
      // ... Engine.generate runs the short one KV-cached and recomputes the long one.
      const r1 = await e.generate(short);
      expect([e.generation.stats().steps > 0, e.stats().batches]).toEqual([true, 0]);
      const steps = e.generation.stats().steps;
      const r2 = await e.generate(long);
      expect([e.generation.stats().steps, e.stats().batches]).toEqual([steps, long.maxNewTokens]);
      expect(r2.generated).toHaveLength(long.maxNewTokens);
      // Same tokens as the big-budget engine's KV path.
      expect(r1).toEqual(await engine.generate(short));
      expect(r2).toEqual(await engine.generate(long));
    } finally {
      await e.close();
    }
  });
});

describe("Engine.generate on a causal LM without a KV path", () => {
  it("recomputes through forward batches", async () => {
    const e = new Engine({ maxWaitMs: 0 });
    e.addBase("lm", createSyntheticCausalLm({ vocab: 17, dim: 8, layers: 2, seed: 3 }));
    try {
      const r = await e.generate({ inputIds: [1, 2], maxNewTokens: 3 });
      expect([r.generated.length, e.stats().batches]).toEqual([3, 3]);
    } finally {
      await e.close();
    }
  });
});
