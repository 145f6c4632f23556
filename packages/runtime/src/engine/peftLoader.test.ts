import { readFile } from "node:fs/promises";
import { fixturePath } from "@lowrank/vitest-config/fixtures";
import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import { isRuntimeError } from "../backend/errors.js";
import { Engine } from "./Engine.js";
import { peftAdapterFromBytes } from "./peftLoader.js";
import { createSyntheticMlp, seededValues, syntheticAdapterArrays } from "./synthetic.js";
import { syntheticPeftFiles } from "./syntheticPeft.js";
import { mlpArrays, referenceMlp } from "./testing.js";

describe("PEFT loader", () => {
  it("reads a real PEFT adapter: one module per lora_A/lora_B pair, alpha/r scaling, a hex digest", async () => {
    const dir = fixturePath("peft-dialogpt-small-tiny-lora");
    const w = peftAdapterFromBytes(
      "dialogpt",
      await readFile(`${dir}/adapter_config.json`),
      new Uint8Array(await readFile(`${dir}/adapter_model.safetensors`)),
    );
    expect(w.modules.size).toBe(12);
    const m = w.modules.get("transformer.h.0.attn.c_attn");
    expect(m?.a.shape).toEqual([8, 768]);
    expect(m?.b.shape).toEqual([2304, 8]);
    expect(m?.scaling).toBe(2);
    expect(w.digest).toMatch(/^[0-9a-f]{64}$/);
    for (const x of w.modules.values()) tf.dispose([x.a, x.b]);
  });

  it("serves an adapter given as PEFT bytes with the reference output, and reports its digest", async () => {
    const base = createSyntheticMlp({ dims: [12, 20, 6], seed: 8 });
    const engine = new Engine({ maxWaitMs: 0 });
    engine.addBase("b", base);
    const spec = { rank: 3, seed: 4, alpha: 5 };
    const files = syntheticPeftFiles(base, spec);
    engine.registerAdapter("bytes", { kind: "bytes", config: files.config, weights: files.weights });
    const info = await engine.loadAdapter("bytes");
    expect(info.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(info.loaded[0]).toMatchObject({ base: "b", rank: 3 });
    const input = seededValues(2, 12);
    const out = await engine.forward({ adapter: info.digest as string, scale: 0.7, input });
    const expected = referenceMlp(mlpArrays(base), input, syntheticAdapterArrays(base, spec), 0.7);
    out.data.forEach((v, i) => {
      expect(v).toBeCloseTo(expected[i] as number, 4);
    });
    // truncated bytes: a typed error naming the adapter
    engine.registerAdapter("truncated", {
      kind: "bytes",
      config: files.config,
      weights: files.weights.subarray(0, 40),
    });
    const err = await engine.forward({ adapter: "truncated", input }).catch((e: unknown) => e);
    expect(isRuntimeError(err) && err.code).toBe("AdapterLoadFailed");
    expect((err as Error).message).toContain("'truncated'");
    await engine.close();
  });
});
