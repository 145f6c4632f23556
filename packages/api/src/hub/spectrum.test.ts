import { readPeftAdapter, serializeSafetensors } from "@lowrank/formats";
import { describe, expect, it } from "vitest";
import { adapterSpectrum } from "./spectrum.js";

describe("adapterSpectrum", () => {
  it("gives the singular values of scale·B·A and the rank that keeps 90% of the energy", () => {
    // A [2, 3] = rows e1, e2; B [3, 2] = diag(3, 1) padded: ΔW = (alpha/r)·B·A has singular values 2·3 and 2·1.
    const A = { dtype: "F32" as const, shape: [2, 3], data: Float32Array.from([1, 0, 0, 0, 1, 0]) };
    const B = { dtype: "F32" as const, shape: [3, 2], data: Float32Array.from([3, 0, 0, 1, 0, 0]) };
    const files = {
      "adapter_config.json": new TextEncoder().encode(
        JSON.stringify({ peft_type: "LORA", r: 2, lora_alpha: 4, target_modules: ["fc"] }),
      ),
      "adapter_model.safetensors": serializeSafetensors({
        "base_model.model.fc.lora_A.weight": A,
        "base_model.model.fc.lora_B.weight": B,
      }),
    };
    const { adapter } = readPeftAdapter(files);
    const spectrum = adapterSpectrum(adapter);
    expect(spectrum.energy).toBe(0.9);
    expect(spectrum.modules).toHaveLength(1);
    const [m] = spectrum.modules;
    expect(m?.name).toBe("fc");
    expect(m?.values[0]).toBeCloseTo(6, 5);
    expect(m?.values[1]).toBeCloseTo(2, 5);
    // 36 / 40 = 0.9 of the energy in the first value.
    expect(m?.effectiveRank).toBe(1);
  });
});
