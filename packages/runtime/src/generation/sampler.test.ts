import { describe, expect, it } from "vitest";
import { Sampler, validateSamplerOptions } from "./sampler.js";

describe("Sampler", () => {
  it("is argmax (first on ties) when greedy", () => {
    expect(new Sampler().next([0, 3, 3, 1])).toBe(1);
    expect(new Sampler({ temperature: 0, seed: 5 }).next([2, 1])).toBe(0);
  });

  it("top-p keeps the smallest most likely set reaching p: probabilities 0.5, 0.3, 0.2 with p=0.75 drop the last", () => {
    const logits = [Math.log(0.5), Math.log(0.3), Math.log(0.2)];
    const s = new Sampler({ temperature: 1, topP: 0.75, seed: 1 });
    const seen = [0, 0, 0];
    for (let i = 0; i < 3000; i++) {
      const t = s.next(logits);
      seen[t] = (seen[t] ?? 0) + 1;
    }
    expect(seen[2]).toBe(0);
    // Renormalised over the two kept: 0.625 and 0.375.
    expect(Math.abs((seen[0] as number) / 3000 - 0.625)).toBeLessThan(0.04);
    const all = new Sampler({ temperature: 1, topP: 1, seed: 1 });
    const seenAll = [0, 0, 0];
    for (let i = 0; i < 3000; i++) {
      const t = all.next(logits);
      seenAll[t] = (seenAll[t] ?? 0) + 1;
    }
    expect(Math.abs((seenAll[2] as number) / 3000 - 0.2)).toBeLessThan(0.04);
  });

  it("top-k keeps the k most likely; the same seed repeats its draws, another seed differs", () => {
    const logits = [0.1, 2, -1, 1.9, 0];
    const s = new Sampler({ temperature: 5, topK: 2, seed: 3 });
    const seen = new Set<number>();
    for (let i = 0; i < 200; i++) seen.add(s.next(logits));
    expect([...seen].sort()).toEqual([1, 3]);
    const draw = (seed: number) => {
      const x = new Sampler({ temperature: 2, seed });
      return Array.from({ length: 30 }, () => x.next(logits));
    };
    expect(draw(9)).toEqual(draw(9));
    expect(draw(9)).not.toEqual(draw(10));
  });

  it("rejects out-of-range options", () => {
    for (const bad of [{ temperature: -1 }, { topK: 1.5 }, { topP: 0 }, { topP: 1.2 }, { seed: 0.5 }])
      expect(() => validateSamplerOptions(bad)).toThrow(expect.objectContaining({ code: "InvalidArgument" }));
  });
});
