// The models inside the engine and under @lowrank/core's injectLora, checked against the NumPy goldens;
// manifests built from config alone, and a real 768-wide PEFT adapter checked against GPT-2's manifest.
import { readFile } from "node:fs/promises";
import { adapterFromPeft, injectLora } from "@lowrank/core";
import { parseSafetensors, type Tensor } from "@lowrank/formats";
import { fixturePath } from "@lowrank/vitest-config/fixtures";
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Engine } from "../engine/Engine.js";
import type { Gpt2 } from "./Gpt2.js";
import { manifestFromConfig } from "./hfManifest.js";
import { loadHfModel } from "./loadHfModel.js";
import { type AdapterShapes, adapterMismatches } from "./manifest.js";
import { goldenPath, mismatches, readGolden } from "./testing.js";

const g = readGolden<{ input_ids: number[][]; base: number[][]; adapter_output: number[][] }>("gpt2-tiny");
const rowsOf = (rows: number[][], item: number, seq: number) => rows.slice(item * seq, (item + 1) * seq).flat();

async function readPeft(dir: string) {
  const config = JSON.parse(await readFile(`${dir}/adapter_config.json`, "utf8")) as Record<string, unknown>;
  const file = parseSafetensors(new Uint8Array(await readFile(`${dir}/adapter_model.safetensors`)));
  const tensors = new Map<string, Tensor>(file.names().map((n) => [n, file.getTensor(n)]));
  return { config, tensors };
}

function shapesOf(tensors: Map<string, Tensor>): AdapterShapes {
  const out: AdapterShapes = {};
  for (const [key, t] of tensors) {
    const m = /^base_model\.model\.(.+)\.lora_([AB])\.weight$/.exec(key);
    if (!m) continue;
    const e = out[m[1] as string] ?? { a: [], b: [] };
    out[m[1] as string] = e;
    if (m[2] === "A") e.a = t.shape;
    else e.b = t.shape;
  }
  return out;
}

describe("GPT-2 in the engine", () => {
  for (const mode of ["unmerged", "merged"] as const) {
    it(`serves base and adapter requests in one batch (${mode})`, async () => {
      const model = (await loadHfModel(fixturePath("hf-gpt2-tiny"))) as Gpt2;
      const engine = new Engine({ mode, flush: "manual" });
      engine.addBase(model.id, model);
      engine.registerAdapter("golden", { kind: "folder", path: goldenPath("adapters", "gpt2-tiny-lora") });
      await engine.loadAdapter("golden");
      const pending = Promise.all([
        engine.forward({ input: g.input_ids[0] as number[] }),
        engine.forward({ input: g.input_ids[1] as number[], adapter: "golden" }),
        engine.forward({ input: g.input_ids[0] as number[], adapter: "golden" }),
      ]);
      await engine.flush();
      const [base0, lora1, lora0] = await pending;
      // unmerged: one batch of 3; merged: one batch per (adapter, scale), so __base__ alone and golden x2
      expect([base0.batchSize, lora1.batchSize, lora0.batchSize]).toEqual(mode === "unmerged" ? [3, 3, 3] : [1, 2, 2]);
      expect(mismatches(base0.data, rowsOf(g.base, 0, 6))).toEqual([]);
      expect(mismatches(lora1.data, rowsOf(g.adapter_output, 1, 6))).toEqual([]);
      expect(mismatches(lora0.data, rowsOf(g.adapter_output, 0, 6))).toEqual([]);
      await engine.close();
      model.dispose();
    });
  }

  it("batches sequences of different lengths (right-padded); each keeps the golden outputs of its own positions", async () => {
    const start = tf.memory().numTensors;
    const model = (await loadHfModel(fixturePath("hf-gpt2-tiny"))) as Gpt2;
    const engine = new Engine({ flush: "manual" });
    engine.addBase(model.id, model);
    engine.registerAdapter("golden", { kind: "folder", path: goldenPath("adapters", "gpt2-tiny-lora") });
    await engine.loadAdapter("golden");
    const ids0 = g.input_ids[0] as number[];
    const ids1 = g.input_ids[1] as number[];
    // Causal attention: the first k positions of a 6-token golden row are the outputs of its k-token prefix.
    const cases = [
      { input: ids0.slice(0, 5), adapter: "__base__", want: g.base.slice(0, 5) },
      { input: ids1, adapter: "golden", want: g.adapter_output.slice(6, 12) },
      { input: ids0.slice(0, 6), adapter: "golden", want: g.adapter_output.slice(0, 6) },
      { input: ids1.slice(0, 3), adapter: "golden", want: g.adapter_output.slice(6, 9) },
    ];
    const pending = Promise.all(cases.map((c) => engine.forward({ input: c.input, adapter: c.adapter })));
    await engine.flush();
    const results = await pending;
    results.forEach((r, i) => {
      const c = cases[i] as (typeof cases)[number];
      expect(r.shape).toEqual([c.input.length, (r.data.length / c.input.length) | 0]);
      expect(mismatches(r.data, c.want.flat())).toEqual([]);
    });
    // Lengths 3 to 6 share the first bucket (up to 16 tokens): one padded batch of 4.
    expect(results.map((r) => r.batchSize)).toEqual([4, 4, 4, 4]);
    await engine.close(); // disposes the base it was given
    model.dispose();
    expect(tf.memory().numTensors).toBe(start);
  });
});

describe("GPT-2 under @lowrank/core's injectLora", () => {
  let model: Gpt2;
  beforeAll(async () => {
    model = (await loadHfModel(fixturePath("hf-gpt2-tiny"))) as Gpt2;
  });
  afterAll(() => model.dispose());

  it("a PEFT adapter loaded through adapterFromPeft gives the golden output; merge and unmerge round-trip", async () => {
    const ids = () => tf.tensor2d(g.input_ids, undefined, "int32");
    const read = (t: tf.Tensor) => {
      const d = t.dataSync() as Float32Array;
      t.dispose();
      return d;
    };
    const peft = await readPeft(goldenPath("adapters", "gpt2-tiny-lora"));
    const before = tf.memory().numTensors;
    const lm = injectLora(model.asLinearHost(), peft.config, { adapterName: "init" });
    adapterFromPeft(lm, peft, "golden");
    lm.setActiveAdapters(["golden"]);
    expect(mismatches(read(tf.tidy(() => lm.forward(ids()))), g.adapter_output.flat())).toEqual([]);
    lm.merge();
    expect(mismatches(read(tf.tidy(() => model.forward(ids()))), g.adapter_output.flat(), 1e-4, 1e-5)).toEqual([]);
    lm.unmerge();
    lm.dispose();
    expect(mismatches(read(tf.tidy(() => model.forward(ids()))), g.base.flat(), 1e-4, 1e-5)).toEqual([]);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe("manifests", () => {
  it("manifestFromConfig equals the loaded model's manifest for every fixture", async () => {
    for (const fixture of ["hf-gpt2-tiny", "hf-gpt2-lmhead-tiny", "hf-bert-tiniest"]) {
      const model = await loadHfModel(fixturePath(fixture));
      const config = JSON.parse(await readFile(fixturePath(fixture, "config.json"), "utf8"));
      expect(manifestFromConfig(config)).toEqual(model.manifest());
      expect(model.id).toBe(model.manifest().digest);
      model.dispose();
    }
  });

  it("the Tigrinya adapter (trained on gpt2) fits GPT-2's manifest and not the tiny model's", async () => {
    const gpt2 = manifestFromConfig({
      model_type: "gpt2",
      architectures: ["GPT2LMHeadModel"],
      n_embd: 768,
      n_head: 12,
      n_layer: 12,
      n_positions: 1024,
      vocab_size: 50257,
    });
    expect(Object.keys(gpt2.modules).filter((k) => k.endsWith("c_attn"))).toHaveLength(12);
    const { tensors } = await readPeft(fixturePath("peft-gpt2-tigrinya-lora"));
    const shapes = shapesOf(tensors);
    expect(Object.keys(shapes)).toHaveLength(36);
    expect(adapterMismatches(gpt2, shapes)).toEqual([]);
    const tiny = manifestFromConfig(
      JSON.parse(await readFile(fixturePath("hf-gpt2-lmhead-tiny", "config.json"), "utf8")),
    );
    const problems = adapterMismatches(tiny, shapes);
    expect(problems).toHaveLength(36);
    expect(problems[0]).toMatch(/expected lora_A \[8,2\] and lora_B \[6,8\] .*found \[8,768\] and \[2304,8\]/);
    // A GPT2Model manifest names modules without "transformer.": nothing matches.
    const headless = manifestFromConfig({
      model_type: "gpt2",
      n_embd: 768,
      n_head: 12,
      n_layer: 12,
      vocab_size: 50257,
    });
    expect(adapterMismatches(headless, shapes)[0]).toMatch(/found none/);
  });
});
