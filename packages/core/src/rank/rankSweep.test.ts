import { describe, expect, it } from "vitest";
import { rankSweep } from "./rankSweep.js";

describe("rankSweep", () => {
  it("runs each rank in order and tabulates parameters, fraction, metric and time", async () => {
    let clock = 0;
    const seen: number[] = [];
    const rows = await rankSweep({
      ranks: [1, 4, 2],
      now: () => clock,
      train: async (r) => {
        seen.push(r);
        clock += 10 * r;
        return { metric: 0.5 + r / 100, trainableParams: 10 * r, totalParams: 1000 + 10 * r };
      },
    });
    expect(seen).toEqual([1, 4, 2]);
    expect(rows).toEqual([
      { rank: 1, trainableParams: 10, fraction: 10 / 1010, metric: 0.51, timeMs: 10 },
      { rank: 4, trainableParams: 40, fraction: 40 / 1040, metric: 0.54, timeMs: 40 },
      { rank: 2, trainableParams: 20, fraction: 20 / 1020, metric: 0.52, timeMs: 20 },
    ]);
  });
  it("refuses non-positive ranks before training anything", async () => {
    let calls = 0;
    await expect(
      rankSweep({ ranks: [2, 0], train: () => ({ metric: calls++, trainableParams: 1, totalParams: 1 }) }),
    ).rejects.toMatchObject({
      code: "InvalidArgument",
    });
    expect(calls).toBe(0);
  });
});
