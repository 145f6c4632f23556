// Engine.generate on a GPT-2 LM head runs KV-cached on the engine's generation scheduler (no forward
// batches), and gives the same tokens as recomputing the whole sequence each step, greedy or sampled,
// for adapters and the base, alone or concurrently; other causal LMs keep recomputing.
import { afterAll, describe, expect, it } from "vitest";
import { GenerationScheduler } from "../generation/GenerationScheduler.js";
import { createSyntheticGpt2 } from "../generation/syntheticGpt2.js";
import { Engine } from "./Engine.js";
import { createSyntheticCausalLm, syntheticAdapter } from "./synthetic.js";
import { BASE_ADAPTER } from "./types.js";

const model = createSyntheticGpt2({ vocab: 96, dim: 32, layers: 2, heads: 4, positions: 24, seed: 5 });
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
    other.addBase("gpt2", model);
    const foreign = new GenerationScheduler(other);
    expect(() => engine.useGenerationScheduler(foreign)).toThrow(/of this engine/);
    expect(() => engine.useGenerationScheduler(new GenerationScheduler(engine))).toThrow(/before the engine's first/);
    engine.useGenerationScheduler(engine.generation); // the one in use: fine
    const fresh = new Engine();
    fresh.addBase("gpt2", model);
    const shared = new GenerationScheduler(fresh, { maxRunning: 2 });
    fresh.useGenerationScheduler(shared);
    expect(fresh.generation).toBe(shared);
    await foreign.close();
    await shared.close();
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
