// Several heads and layers against the NumPy reference (tooling/golden/make_golden.py, float64): the
// random-weight models in tooling/golden/models load through the same loader as any Hugging Face folder.
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Engine } from "../engine/Engine.js";
import { peftAdapterFromBytes, readPeftFiles } from "../engine/peftLoader.js";
import type { AdapterWeights } from "../engine/types.js";
import { adapterLinear } from "./adapterLinear.js";
import type { Bert } from "./Bert.js";
import { disposeCache, type Gpt2 } from "./Gpt2.js";
import { hfModelFromFiles, readHfFiles } from "./loadHfModel.js";
import { goldenPath, mismatches, readGolden } from "./testing.js";

async function adapter(name: string): Promise<AdapterWeights> {
  const { config, weights } = await readPeftFiles(goldenPath("adapters", name));
  return peftAdapterFromBytes(name, config, weights);
}

function run(f: () => tf.Tensor): Float32Array {
  const t = tf.tidy(f);
  const data = t.dataSync() as Float32Array;
  t.dispose();
  return data;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < b.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

/** Rows of a [batch, seq, width] output, flattened per (batch, position). */
function slice(data: ArrayLike<number>, width: number, b: number, t: number, seq: number): number[] {
  const start = (b * seq + t) * width;
  return Array.from(data).slice(start, start + width);
}

describe("GPT2LMHeadModel, 4 heads, 3 layers, scale_attn_by_inverse_layer_idx (gpt2-deep) against NumPy", () => {
  const g = readGolden<{
    input_ids: number[][];
    shape: [number, number, number];
    heads: number;
    layers: number;
    base: number[][];
    adapter_output: number[][];
    base_unscaled: number[][];
  }>("gpt2-deep");
  let model: Gpt2;
  let lora: AdapterWeights;
  const ids = () => tf.tensor2d(g.input_ids, undefined, "int32");
  /** The first `len` positions of batch row `item` of a [batch·seq, vocab] golden, flattened. */
  const rowsOf = (rows: number[][], item: number, len: number) =>
    rows.slice(item * g.shape[1], item * g.shape[1] + len).flat();
  beforeAll(async () => {
    model = hfModelFromFiles(await readHfFiles(goldenPath("models", "gpt2-deep"))) as Gpt2;
    lora = await adapter("gpt2-deep-lora");
  });
  afterAll(() => {
    model.dispose();
    for (const m of lora.modules.values()) tf.dispose([m.a, m.b]);
  });

  it("loads the configuration the golden was made for", () => {
    expect(model.hparams).toMatchObject({ nHead: 4, nLayer: 3, nEmbd: 16, scaleAttnByInverseLayerIdx: true });
    expect([g.heads, g.layers]).toEqual([4, 3]);
    expect(lora.modules.size).toBe(12);
  });

  it("matches the base logits", () => {
    const out = run(() => model.forward(ids()));
    expect(mismatches(out, g.base.flat(), 1e-4, 1e-5)).toEqual([]);
    expect(maxAbsDiff(out, g.base.flat())).toBeLessThan(1e-4);
  });

  it("matches the logits with the adapter on every layer", () => {
    const out = run(() => model.forward(ids(), adapterLinear(model, lora)));
    expect(mismatches(out, g.adapter_output.flat(), 1e-4, 1e-5)).toEqual([]);
    expect(maxAbsDiff(out, g.base.flat())).toBeGreaterThan(0.1);
  });

  it("gives the golden logits with the KV cache too: a 3-token prompt, then one token at a time, with the adapter", () => {
    const [batch, seq, vocab] = g.shape;
    const linear = adapterLinear(model, lora);
    const before = tf.memory().numTensors;
    let cache: ReturnType<Gpt2["step"]>["cache"] | undefined;
    const got = new Float32Array(batch * seq * vocab);
    for (const [from, to] of [[0, 3], ...Array.from({ length: seq - 3 }, (_, i) => [3 + i, 4 + i])] as [
      number,
      number,
    ][]) {
      const input = tf.tensor2d(
        g.input_ids.map((row) => row.slice(from, to)),
        undefined,
        "int32",
      );
      const res = model.step(input, linear, cache);
      input.dispose();
      disposeCache(cache);
      cache = res.cache;
      const out = res.output.dataSync(); // [batch, to - from, vocab]
      res.output.dispose();
      for (let b = 0; b < batch; b++)
        got.set(out.subarray(b * (to - from) * vocab, (b + 1) * (to - from) * vocab), (b * seq + from) * vocab);
    }
    disposeCache(cache);
    expect(tf.memory().numTensors).toBe(before);
    expect(mismatches(got, g.adapter_output.flat(), 1e-4, 1e-5)).toEqual([]);
  });

  it("gives the golden logits when rows of different lengths decode their next token together (decodeRows, decodeBatch)", () => {
    const vocab = g.shape[2];
    const linear = adapterLinear(model, lora);
    const lengths = [3, 5]; // row 0 has decoded 3 tokens, row 1 five; each now decodes its next one
    const prefix = (b: number) => tf.tensor2d([(g.input_ids[b] as number[]).slice(0, lengths[b])], undefined, "int32");
    const caches = [0, 1].map((b) => {
      const ids = prefix(b);
      const r = model.step(ids, linear);
      tf.dispose([ids, r.output]);
      return r.cache;
    });
    const tokens = [0, 1].map((b) => (g.input_ids[b] as number[])[lengths[b] as number] as number);
    const want = [0, 1].flatMap((b) => rowsOf(g.adapter_output, b, (lengths[b] as number) + 1).slice(-vocab));
    const before = tf.memory().numTensors;
    const rows = model.decodeRows(tokens, caches, linear);
    expect(rows.output.shape).toEqual([2, 1, vocab]);
    expect(mismatches(rows.output.dataSync(), want, 1e-4, 1e-5)).toEqual([]);
    tf.dispose(rows.output);
    for (const c of rows.caches) disposeCache(c);
    // The same step over one batch cache: row i's positions in the last columns, padding before them.
    const T = Math.max(...lengths);
    const leftPad = (t: tf.Tensor4D) =>
      tf.pad(t, [
        [0, 0],
        [0, 0],
        [T - (t.shape[2] as number), 0],
        [0, 0],
      ]);
    const batch = tf.tidy(() => ({
      keys: caches[0]!.keys.map((k, l) => tf.concat([leftPad(k), leftPad(caches[1]!.keys[l]!)], 0) as tf.Tensor4D),
      values: caches[0]!.values.map(
        (v, l) => tf.concat([leftPad(v), leftPad(caches[1]!.values[l]!)], 0) as tf.Tensor4D,
      ),
    }));
    const out = model.decodeBatch(tokens, batch, lengths, linear);
    expect(mismatches(out.output.dataSync(), want, 1e-4, 1e-5)).toEqual([]);
    tf.dispose([out.output, ...out.keys, ...out.values, ...batch.keys, ...batch.values]);
    expect(tf.memory().numTensors).toBe(before);
    for (const c of caches) disposeCache(c);
  });

  it("depends on scale_attn_by_inverse_layer_idx: turned off, it matches the unscaled golden and not the scaled one", async () => {
    const files = await readHfFiles(goldenPath("models", "gpt2-deep"));
    const off = hfModelFromFiles({
      ...files,
      config: { ...files.config, scale_attn_by_inverse_layer_idx: false },
    }) as Gpt2;
    try {
      const out = run(() => off.forward(ids()));
      expect(mismatches(out, g.base_unscaled.flat(), 1e-4, 1e-5)).toEqual([]);
      expect(maxAbsDiff(out, g.base.flat())).toBeGreaterThan(0.1);
    } finally {
      off.dispose();
    }
  });
});

describe("gpt2-deep served by the engine against NumPy", () => {
  const g = readGolden<{
    input_ids: number[][];
    shape: [number, number, number];
    base: number[][];
    adapter_output: number[][];
  }>("gpt2-deep");
  const [, seq] = g.shape;
  const rowsOf = (rows: number[][], item: number, len = seq) => rows.slice(item * seq, item * seq + len).flat();
  for (const mode of ["unmerged", "merged"] as const) {
    it(`gives the golden logits for base and adapter requests, whole rows and a causal prefix (${mode})`, async () => {
      const start = tf.memory().numTensors;
      const model = hfModelFromFiles(await readHfFiles(goldenPath("models", "gpt2-deep"))) as Gpt2;
      const engine = new Engine({ mode, maxWaitMs: 5 });
      engine.addBase(model.id, model);
      engine.registerAdapter("deep", { kind: "folder", path: goldenPath("adapters", "gpt2-deep-lora") });
      await engine.loadAdapter("deep");
      const [ids0, ids1] = g.input_ids as [number[], number[]];
      const cases = [
        { input: ids0, adapter: "__base__", want: rowsOf(g.base, 0) },
        { input: ids1, adapter: "deep", want: rowsOf(g.adapter_output, 1) },
        { input: ids0.slice(0, 5), adapter: "deep", want: rowsOf(g.adapter_output, 0, 5) },
        { input: ids1, adapter: "__base__", want: rowsOf(g.base, 1) },
      ];
      const results = await Promise.all(cases.map((c) => engine.forward({ input: c.input, adapter: c.adapter })));
      results.forEach((r, i) => {
        expect(mismatches(r.data, (cases[i] as (typeof cases)[number]).want, 1e-4, 1e-5)).toEqual([]);
      });
      await engine.close(); // disposes the base it was given
      expect(tf.memory().numTensors).toBe(start);
    });
  }
});

describe("BertForMaskedLM, 4 heads, 2 layers, padded batch (bert-deep) against NumPy", () => {
  const g = readGolden<{
    input_ids: number[][];
    token_type_ids: number[][];
    attention_mask: number[][];
    heads: number;
    layers: number;
    hidden_shape: [number, number, number];
    logits_shape: [number, number, number];
    base_hidden: number[][];
    base_logits: number[][];
    adapter_hidden: number[][];
    adapter_logits: number[][];
  }>("bert-deep");
  let model: Bert;
  let lora: AdapterWeights;
  beforeAll(async () => {
    model = hfModelFromFiles(await readHfFiles(goldenPath("models", "bert-deep"))) as Bert;
    lora = await adapter("bert-deep-lora");
  });
  afterAll(() => {
    model.dispose();
    for (const m of lora.modules.values()) tf.dispose([m.a, m.b]);
  });

  const encode = (withAdapter: boolean, masked = true): [Float32Array, Float32Array] => {
    const out = tf.tidy(() => {
      const r = model.encode(
        {
          inputIds: tf.tensor2d(g.input_ids, undefined, "int32"),
          tokenTypeIds: tf.tensor2d(g.token_type_ids, undefined, "int32"),
          ...(masked ? { attentionMask: tf.tensor2d(g.attention_mask, undefined, "int32") } : {}),
        },
        withAdapter ? adapterLinear(model, lora) : model.linear,
      );
      return [r.hidden, r.logits as tf.Tensor];
    });
    const data = out.map((t) => t.dataSync() as Float32Array) as [Float32Array, Float32Array];
    tf.dispose(out);
    return data;
  };

  it("loads the configuration the golden was made for", () => {
    expect(model.hparams).toMatchObject({ numHeads: 4, numLayers: 2, hiddenSize: 16 });
    expect(model.hasLmHead).toBe(true);
    expect([g.heads, g.layers]).toEqual([4, 2]);
    expect([...lora.modules.keys()].sort()).toEqual(
      [0, 1]
        .flatMap((i) =>
          ["attention.self.query", "attention.self.value", "attention.output.dense", "intermediate.dense"].map(
            (m) => `bert.encoder.layer.${i}.${m}`,
          ),
        )
        .sort(),
    );
  });

  for (const [label, withAdapter, hiddenKey, logitsKey] of [
    ["base", false, "base_hidden", "base_logits"],
    ["adapter", true, "adapter_hidden", "adapter_logits"],
  ] as const) {
    it(`matches hidden states and logits with the attention mask (${label})`, () => {
      const [hidden, logits] = encode(withAdapter);
      expect(mismatches(hidden, g[hiddenKey].flat(), 1e-4, 1e-5)).toEqual([]);
      expect(mismatches(logits, g[logitsKey].flat(), 1e-4, 1e-5)).toEqual([]);
      expect(maxAbsDiff(hidden, g[hiddenKey].flat())).toBeLessThan(1e-4);
    });
  }

  it("the adapter changes the output", () => {
    expect(maxAbsDiff(g.adapter_hidden.flat(), g.base_hidden.flat())).toBeGreaterThan(0.1);
    const [hidden] = encode(true);
    expect(maxAbsDiff(hidden, g.base_hidden.flat())).toBeGreaterThan(0.1);
  });

  it("depends on the mask: without it the padded rows change and the unpadded row does not", () => {
    const [, seq, width] = g.hidden_shape;
    const [hidden] = encode(false, false);
    const golden = g.base_hidden.flat();
    for (let t = 0; t < seq; t++) {
      // Row 0 has no padding, so the mask is all ones there.
      expect(mismatches(slice(hidden, width, 0, t, seq), slice(golden, width, 0, t, seq), 1e-4, 1e-5)).toEqual([]);
    }
    for (const b of [1, 2]) {
      // A real token of a padded row (position 0) attends to the padding once the mask is gone.
      expect(maxAbsDiff(slice(hidden, width, b, 0, seq), slice(golden, width, b, 0, seq))).toBeGreaterThan(1e-2);
    }
  });
});
