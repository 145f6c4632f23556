import { describe, expect, it } from "vitest";
import { linearFitProblem } from "./linearFit.js";

describe("linearFitProblem", () => {
  const linear = { layout: "out_in" as const, inFeatures: 4, outFeatures: 3 };
  const conv1d = { layout: "in_out" as const, inFeatures: 4, outFeatures: 3 };

  it("accepts A [r, in] and B [out, r] for both weight layouts", () => {
    expect(linearFitProblem("m", linear, [2, 4], [3, 2])).toBeUndefined();
    expect(linearFitProblem("m", conv1d, [2, 4], [3, 2])).toBeUndefined();
  });

  it("names the module, the weight and both shapes when they disagree", () => {
    expect(linearFitProblem("h.0.mlp.c_fc", conv1d, [2, 5], [3, 2])).toBe(
      "module h.0.mlp.c_fc: expected lora_A [2,4] and lora_B [3,2] for conv1d weight [4,3], found [2,5] and [3,2]",
    );
    expect(linearFitProblem("q", linear, [2, 4], [3, 1])).toBe(
      "module q: expected lora_A [2,4] and lora_B [3,2] for linear weight [3,4], found [2,4] and [3,1]",
    );
    expect(linearFitProblem("q", linear, [2, 4, 1], [3, 2])).toMatch(/^module q: expected lora_A \[2,4\]/);
  });

  it("refuses rank 0, which the shape check alone would let through", () => {
    expect(linearFitProblem("q", linear, [0, 4], [3, 0])).toBe(
      "module q: expected rank r >= 1, found lora_A [0,4] and lora_B [3,0]",
    );
  });
});
