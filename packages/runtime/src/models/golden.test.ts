// TS forward vs the NumPy reference in tooling/golden/make_golden.py (float64, independent code).
import { fixturePath } from "@lowrank/vitest-config/fixtures";
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { peftAdapterFromBytes, readPeftFiles } from "../engine/peftLoader.js";
import type { AdapterWeights } from "../engine/types.js";
import { adapterLinear } from "./adapterLinear.js";
import type { Bert } from "./Bert.js";
import { disposeCache, type Gpt2 } from "./Gpt2.js";
import { loadHfModel } from "./loadHfModel.js";
import { goldenPath, type LogitsSummary, mismatches, readGolden, summarize } from "./testing.js";

async function adapter(name: string): Promise<AdapterWeights> {
  const { config, weights } = await readPeftFiles(goldenPath("adapters", name));
  return peftAdapterFromBytes(name, config, weights);
}

function disposeAdapter(a: AdapterWeights) {
  for (const m of a.modules.values()) tf.dispose([m.a, m.b]);
}

function run(f: () => tf.Tensor): Float32Array {
  const t = tf.tidy(f);
  const data = t.dataSync() as Float32Array;
  t.dispose();
  return data;
}

function expectSummary(actual: LogitsSummary, expected: LogitsSummary) {
  expect(actual.argmax).toEqual(expected.argmax);
  expect(mismatches(actual.values.flat(), expected.values.flat(), 1e-4, 1e-6)).toEqual([]);
  expect(mismatches(actual.max, expected.max, 1e-4, 1e-6)).toEqual([]);
  expect(mismatches(actual.sumsq, expected.sumsq, 1e-4, 1e-6)).toEqual([]);
  // The sum over 50k logits cancels to a small number: compare against the sum of magnitudes' scale.
  expect(mismatches(actual.sum, expected.sum, 1e-4, 1e-4 * Math.sqrt(Math.max(...expected.sumsq)) * 10)).toEqual([]);
}

describe("GPT2Model (hf-gpt2-tiny) against NumPy", () => {
  const g = readGolden<{
    input_ids: number[][];
    base: number[][];
    adapter_output: number[][];
    "adapter_output_scale_0.5": number[][];
  }>("gpt2-tiny");
  let model: Gpt2;
  let lora: AdapterWeights;
  beforeAll(async () => {
    model = (await loadHfModel(fixturePath("hf-gpt2-tiny"))) as Gpt2;
    lora = await adapter("gpt2-tiny-lora");
  });
  afterAll(() => {
    model.dispose();
    disposeAdapter(lora);
  });

  it("names modules as Hugging Face does and holds no trainable variables", () => {
    expect(model.architecture).toBe("GPT2Model");
    expect([...model.linearModules.keys()]).toEqual([
      "h.0.attn.c_attn",
      "h.0.attn.c_proj",
      "h.0.mlp.c_fc",
      "h.0.mlp.c_proj",
    ]);
    expect([...model.parameters.values()].every((v) => !v.trainable)).toBe(true);
    expect(model.manifest().modules["h.0.attn.c_attn"]).toMatchObject({ shape: [2, 6], layout: "conv1d" });
  });

  it("matches the base forward (batch of two)", () => {
    const out = run(() => model.forward(tf.tensor2d(g.input_ids, undefined, "int32")));
    expect(mismatches(out, g.base.flat())).toEqual([]);
  });

  it("matches the forward with the synthetic adapter, at scale 1 and 0.5", () => {
    const ids = () => tf.tensor2d(g.input_ids, undefined, "int32");
    const out = run(() => model.forward(ids(), adapterLinear(model, lora)));
    expect(mismatches(out, g.adapter_output.flat())).toEqual([]);
    const half = run(() => model.forward(ids(), adapterLinear(model, lora, 0.5)));
    expect(mismatches(half, g["adapter_output_scale_0.5"].flat())).toEqual([]);
    expect(mismatches(out, g.base.flat()).length).toBeGreaterThan(0);
  });
});

describe("GPT2LMHeadModel (hf-gpt2-lmhead-tiny) against NumPy", () => {
  const g = readGolden<{ input_ids: number[][]; base: LogitsSummary; adapter_output: LogitsSummary; shape: number[] }>(
    "gpt2-lmhead-tiny",
  );
  let model: Gpt2;
  let lora: AdapterWeights;
  beforeAll(async () => {
    model = (await loadHfModel(fixturePath("hf-gpt2-lmhead-tiny"))) as Gpt2;
    lora = await adapter("gpt2-lmhead-tiny-lora");
  });
  afterAll(() => {
    model.dispose();
    disposeAdapter(lora);
  });

  it("uses transformer.-prefixed names and a tied lm_head", () => {
    expect(model.kind).toBe("causal-lm");
    expect(model.linearModules.has("transformer.h.0.attn.c_attn")).toBe(true);
    expect(model.linearModules.get("lm_head")?.weight).toBe(model.parameters.get("transformer.wte.weight"));
    expect(model.manifest().modules.lm_head).toMatchObject({
      shape: [50257, 2],
      layout: "linear",
      tiedTo: "transformer.wte",
    });
  });

  it("matches base and adapter logits", () => {
    const vocab = g.shape[2] as number;
    const ids = () => tf.tensor2d(g.input_ids, undefined, "int32");
    expectSummary(
      summarize(
        run(() => model.forward(ids())),
        vocab,
        g.base.columns,
      ),
      g.base,
    );
    expectSummary(
      summarize(
        run(() => model.forward(ids(), adapterLinear(model, lora))),
        vocab,
        g.base.columns,
      ),
      g.adapter_output,
    );
  });

  it("gives the same logits with the KV cache, one token at a time", () => {
    const ids = g.input_ids[0] as number[];
    const full = run(() => model.forward(tf.tensor2d([ids], undefined, "int32")));
    const before = tf.memory().numTensors;
    let cache: ReturnType<Gpt2["forwardWithCache"]>["cache"] | undefined;
    const vocab = g.shape[2] as number;
    for (let i = 0; i < ids.length; i++) {
      const input = tf.tensor2d([[ids[i] as number]], undefined, "int32");
      const res = model.step(input, model.linear, cache);
      input.dispose();
      disposeCache(cache);
      cache = res.cache;
      const row = res.output.dataSync();
      res.output.dispose();
      expect(mismatches(row, full.subarray(i * vocab, (i + 1) * vocab), 1e-4, 1e-6)).toEqual([]);
    }
    if (cache) tf.dispose([...cache.keys, ...cache.values]);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe("BertLMHeadModel (hf-bert-tiniest) against NumPy", () => {
  const g = readGolden<Record<string, number[][] & LogitsSummary>>("bert-tiniest");
  let model: Bert;
  let lora: AdapterWeights;
  beforeAll(async () => {
    model = (await loadHfModel(fixturePath("hf-bert-tiniest"))) as Bert;
    lora = await adapter("bert-tiniest-lora");
  });
  afterAll(() => {
    model.dispose();
    disposeAdapter(lora);
  });

  const inputs = (plain = false) => ({
    inputIds: tf.tensor2d(g.input_ids as number[][], undefined, "int32"),
    ...(plain
      ? {}
      : {
          tokenTypeIds: tf.tensor2d(g.token_type_ids as number[][], undefined, "int32"),
          attentionMask: tf.tensor2d(g.attention_mask as number[][], undefined, "int32"),
        }),
  });

  it("names modules bert.encoder.layer.N... and keeps the cls.predictions head", () => {
    expect(model.linearModules.has("bert.encoder.layer.0.attention.self.query")).toBe(true);
    expect(model.manifest().modules["bert.encoder.layer.0.intermediate.dense"]).toMatchObject({
      shape: [8, 4],
      layout: "linear",
    });
    expect(model.asLinearHost().outputModuleNames?.()).toEqual(["cls.predictions.decoder"]);
  });

  for (const [label, hiddenKey, logitsKey, plain, withAdapter] of [
    ["masked, token types", "base_hidden", "base_logits", false, false],
    ["masked, token types, adapter", "adapter_hidden", "adapter_logits", false, true],
    ["plain ids", "plain_hidden", "plain_logits", true, false],
  ] as const) {
    it(`matches hidden states and logits (${label})`, () => {
      const out = tf.tidy(() => {
        const r = model.encode(inputs(plain), withAdapter ? adapterLinear(model, lora) : model.linear);
        return [r.hidden, r.logits as tf.Tensor];
      });
      const [hidden, logits] = out.map((t) => t.dataSync() as Float32Array) as [Float32Array, Float32Array];
      tf.dispose(out);
      expect(mismatches(hidden, (g[hiddenKey] as number[][]).flat())).toEqual([]);
      const exp = g[logitsKey] as LogitsSummary;
      expectSummary(summarize(logits, 30522, exp.columns), exp);
    });
  }
});
