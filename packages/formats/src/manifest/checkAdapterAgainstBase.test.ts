import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { fixturePath } from "@lowrank/vitest-config/fixtures";
import { describe, expect, it } from "vitest";
import { isFormatError } from "../errors.js";
import { readPeftFolder } from "../peft/node.js";
import { readPeftAdapter } from "../peft/readPeftAdapter.js";
import { serializeSafetensors } from "../safetensors/serializeSafetensors.js";
import { checkAdapterAgainstBase } from "./checkAdapterAgainstBase.js";
import { manifestFromConfig } from "./manifestFromConfig.js";
import { readBaseManifest } from "./node.js";

const artifacts = (task: string) => fileURLToPath(new URL(`../../../../examples/artifacts/${task}/`, import.meta.url));

function refusal(run: () => unknown): string | undefined {
  try {
    run();
  } catch (e) {
    return isFormatError(e) ? e.code : String(e);
  }
  return undefined;
}

describe("checkAdapterAgainstBase on the committed demo adapters (tfjs kernels [in, out])", () => {
  for (const task of ["translation", "mnist", "sentiment"]) {
    it(`${task}: every adapter fits its base with no warnings`, async () => {
      const manifest = await readBaseManifest(`${artifacts(task)}base`);
      const names = readdirSync(`${artifacts(task)}adapters`);
      expect(names.length).toBeGreaterThan(0);
      for (const name of names) {
        const { adapter } = await readPeftFolder(`${artifacts(task)}adapters/${name}`);
        const check = checkAdapterAgainstBase(adapter, manifest);
        expect(check.mismatches, name).toEqual([]);
        expect(check.warnings, name).toEqual([]);
        expect(Object.keys(check.matched).length, name).toBe(Object.keys(adapter.modules).length);
      }
    });
  }
});

describe("fan_in_fan_out warnings are for GPT-2's Conv1D only", () => {
  it("a GPT-2 adapter with fan_in_fan_out false still gets PEFT's auto-fix as a warning per module", async () => {
    const { adapter } = await readPeftFolder(fixturePath("peft-gpt2-tigrinya-lora"));
    expect(adapter.config.fan_in_fan_out).toBe(true);
    const gpt2 = manifestFromConfig({
      model_type: "gpt2",
      architectures: ["GPT2LMHeadModel"],
      n_embd: 768,
      n_layer: 12,
      n_head: 12,
      n_positions: 1024,
      vocab_size: 50257,
    });
    expect(checkAdapterAgainstBase(adapter, gpt2).warnings).toEqual([]);
    const off = { ...adapter, config: { ...adapter.config, fan_in_fan_out: false } };
    const warnings = checkAdapterAgainstBase(off, gpt2).warnings;
    expect(warnings).toHaveLength(Object.keys(adapter.modules).length);
    expect(warnings[0]).toMatch(/Conv1D .* fan_in_fan_out is false/);
  });
});

describe('"all-linear" follows PEFT\'s rule (output head, exclude_modules, layers_to_transform)', () => {
  // The translation base: CharSeq2Seq with d_model 64, ffn 128, vocab 90; `lm_head` is its output head.
  const f32 = (shape: [number, number]) => ({
    dtype: "F32" as const,
    shape,
    data: new Float32Array(shape[0] * shape[1]),
  });
  const factors: Record<string, [[number, number], [number, number]]> = {
    lm_head: [
      [2, 64],
      [90, 2],
    ],
    "encoder.layers.0.fc1": [
      [2, 64],
      [128, 2],
    ],
  };
  const adapter = (modules: string[], extra: Record<string, unknown> = {}) => {
    const tensors: Record<string, ReturnType<typeof f32>> = {};
    for (const m of modules) {
      const [a, b] = factors[m] as [[number, number], [number, number]];
      tensors[`base_model.model.${m}.lora_A.weight`] = f32(a);
      tensors[`base_model.model.${m}.lora_B.weight`] = f32(b);
    }
    const config = { peft_type: "LORA", r: 2, lora_alpha: 4, target_modules: "all-linear", ...extra };
    return readPeftAdapter({
      "adapter_config.json": new TextEncoder().encode(JSON.stringify(config)),
      "adapter_model.safetensors": serializeSafetensors(tensors),
    }).adapter;
  };

  it("refuses an all-linear adapter holding only output-head factors (PEFT leaves the head out)", async () => {
    const manifest = await readBaseManifest(`${artifacts("translation")}base`);
    expect(manifest.modules.lm_head).toBeDefined();
    expect(refusal(() => checkAdapterAgainstBase(adapter(["lm_head"]), manifest))).toBe("NoMatchingModules");
    // With a target module beside it, it fits, and the head's factors are flagged as never loaded.
    const both = checkAdapterAgainstBase(adapter(["lm_head", "encoder.layers.0.fc1"]), manifest);
    expect(both.ok).toBe(true);
    expect(both.warnings).toHaveLength(1);
    expect(both.warnings[0]).toMatch(/lm_head .*not a target/);
    // Named in a list, the head is a target like any module.
    expect(checkAdapterAgainstBase(adapter(["lm_head"], { target_modules: ["lm_head"] }), manifest).warnings).toEqual(
      [],
    );
  });

  it("honours exclude_modules and layers_to_transform", async () => {
    const manifest = await readBaseManifest(`${artifacts("translation")}base`);
    const fc1 = ["encoder.layers.0.fc1"];
    expect(checkAdapterAgainstBase(adapter(fc1), manifest).ok).toBe(true);
    expect(refusal(() => checkAdapterAgainstBase(adapter(fc1, { exclude_modules: ["fc1"] }), manifest))).toBe(
      "NoMatchingModules",
    );
    expect(refusal(() => checkAdapterAgainstBase(adapter(fc1, { layers_to_transform: [3] }), manifest))).toBe(
      "NoMatchingModules",
    );
    expect(checkAdapterAgainstBase(adapter(fc1, { layers_to_transform: [0] }), manifest).ok).toBe(true);
  });
});
