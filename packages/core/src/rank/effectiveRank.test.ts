import { describe, expect, it } from "vitest";
import { effectiveRank, energyKept } from "./effectiveRank.js";

describe("effectiveRank", () => {
  it("hand cases", () => {
    expect(effectiveRank([4, 3])).toBe(2); // 16/25 = 0.64 < 0.9
    expect(effectiveRank([4, 3], 0.64)).toBe(1);
    expect(effectiveRank([10, 1, 1])).toBe(1); // 100/102
    expect(effectiveRank([10, 1, 1], 0.99)).toBe(2); // 101/102 = 0.990...
    expect(effectiveRank([2, 2, 2, 2], 0.5)).toBe(2);
    expect(effectiveRank([2, 2, 2, 2], 0.51)).toBe(3);
    expect(effectiveRank([5, 0, 0], 1)).toBe(1);
    expect(effectiveRank([0, 0])).toBe(0);
    expect(effectiveRank([])).toBe(0);
  });
  it("refuses bad energy and unsorted or negative values", () => {
    for (const e of [0, -0.1, 1.5, Number.NaN])
      expect(() => effectiveRank([1], e)).toThrow(expect.objectContaining({ code: "InvalidArgument" }));
    expect(() => effectiveRank([1, 2])).toThrow(/descending/);
    expect(() => effectiveRank([1, -1])).toThrow(/non-negative/);
  });
  it("energyKept", () => {
    expect(energyKept([4, 3], 1)).toBeCloseTo(0.64, 12);
    expect(energyKept([4, 3], 2)).toBe(1);
    expect(energyKept([0], 0)).toBe(1);
  });
});
