import { describe, expect, it } from "vitest";
import { isRuntimeError } from "../backend/errors.js";
import { Engine } from "./Engine.js";
import { createSyntheticMlp, seededValues } from "./synthetic.js";

function refusal(options: Record<string, unknown>): { code: string; message: string } | undefined {
  try {
    new Engine(options as ConstructorParameters<typeof Engine>[0]);
    return undefined;
  } catch (e) {
    if (!isRuntimeError(e)) throw e;
    return { code: e.code, message: e.message };
  }
}

describe("Engine options", () => {
  it.each([
    [{ maxBatchSize: 0 }, "maxBatchSize: expected an integer >= 1, found 0"],
    [{ maxBatchSize: -3 }, "maxBatchSize: expected an integer >= 1, found -3"],
    [{ maxBatchSize: 2.5 }, "maxBatchSize: expected an integer >= 1, found 2.5"],
    [{ maxBatchSize: Number.NaN }, "maxBatchSize: expected an integer >= 1, found NaN"],
    [{ maxBatchSize: "abc" }, 'maxBatchSize: expected an integer >= 1, found "abc"'],
    [{ maxWaitMs: -1 }, "maxWaitMs: expected a finite number >= 0, found -1"],
    [{ maxWaitMs: Number.POSITIVE_INFINITY }, "maxWaitMs: expected a finite number >= 0, found Infinity"],
    [{ maxQueued: 0 }, "maxQueued: expected an integer >= 1, found 0"],
    [{ cacheBytes: Number.NaN }, "cacheBytes: expected a finite number of bytes >= 0, found NaN"],
    [{ cacheBytes: -1 }, "cacheBytes: expected a finite number of bytes >= 0, found -1"],
    [{ mode: "fast" }, "mode: expected 'unmerged' or 'merged', found \"fast\""],
    [{ flush: "later" }, "flush: expected 'auto' or 'manual', found \"later\""],
    [
      { kernel: "fast" },
      "kernel: expected 'auto', 'kernel', 'segmented', 'portable' or a kernel function, found \"fast\"",
    ],
  ])("refuses %j with InvalidArgument naming the option", (options, message) => {
    expect(refusal(options)).toEqual({ code: "InvalidArgument", message });
  });

  it("accepts the edges (maxBatchSize 1, maxWaitMs 0, cacheBytes 0) and a batch of one still answers", async () => {
    expect(refusal({ maxBatchSize: 1, maxWaitMs: 0, cacheBytes: 0, maxQueued: 1 })).toBeUndefined();
    const engine = new Engine({ maxBatchSize: 1, maxWaitMs: 0 });
    engine.addBase("b", createSyntheticMlp({ dims: [4, 3] }));
    const [a, b] = await Promise.all([
      engine.forward({ input: seededValues(1, 4) }),
      engine.forward({ input: seededValues(2, 4) }),
    ]);
    expect([a.batchSize, b.batchSize]).toEqual([1, 1]);
    expect(engine.stats().batches).toBe(2);
    await engine.close();
  });
});

describe("Engine requests", () => {
  it("a scale that overflows float32 fails only its own row of the batch, naming the scale", async () => {
    const { syntheticAdapter } = await import("./synthetic.js");
    const engine = new Engine({ flush: "manual" });
    engine.addBase("b", createSyntheticMlp({ dims: [4, 3] }));
    engine.registerAdapter("a", { kind: "custom", load: (b) => syntheticAdapter(b, { rank: 2, seed: 1 }) });
    const input = seededValues(1, 4);
    const huge = engine.forward({ adapter: "a", scale: 1e308, input }).catch((e: unknown) => e);
    const fine = engine.forward({ adapter: "a", scale: 1, input });
    await engine.flush();
    expect(await huge).toMatchObject({ code: "InvalidArgument", message: expect.stringMatching(/^scale: .*1e\+308/) });
    expect((await fine).data.every(Number.isFinite)).toBe(true);
    await engine.close();
  });
});
