// KV-cached decoding against recomputing the whole sequence at every step (the model's plain forward with
// `adapterLinear`, an independent LoRA path), and against NumPy's greedy tokens on the fixture.
import { fixturePath } from "@lowrank/vitest-config/fixtures";
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LoraBatchPlan } from "../engine/LoraBatchPlan.js";
import { peftAdapterFromBytes, readPeftFiles } from "../engine/peftLoader.js";
import { ResidentAdapter } from "../engine/ResidentAdapter.js";
import { syntheticAdapter } from "../engine/synthetic.js";
import { type AdapterWeights, BASE_ADAPTER } from "../engine/types.js";
import { adapterLinear } from "../models/adapterLinear.js";
import { Gpt2 } from "../models/Gpt2.js";
import { readHfFiles } from "../models/loadHfModel.js";
import { argmax } from "../models/sampleToken.js";
import { goldenPath, mismatches, readGolden } from "../models/testing.js";
import { BatchKv } from "./BatchKv.js";
import { disposeSequenceKv, type KvDecoder, kvDecoderFor, type SequenceKv } from "./KvDecoder.js";
import { mixedLinear } from "./mixedLinear.js";
import { createSyntheticGpt2 } from "./syntheticGpt2.js";

interface Row {
  adapter: ResidentAdapter | null;
  scale: number;
}

function linearFor(model: Gpt2, rows: Row[]) {
  return mixedLinear(
    model,
    new LoraBatchPlan(rows.map((r) => ({ modules: r.adapter?.modules ?? null, scale: r.scale }))),
  );
}

function take(t: tf.Tensor): Float32Array {
  const d = t.dataSync() as Float32Array;
  t.dispose();
  return d;
}

/** Greedy tokens and each step's logits by recomputing the whole sequence (no cache). */
function recompute(model: Gpt2, prompt: number[], steps: number, adapter?: AdapterWeights, scale = 1) {
  const linear = adapterLinear(model, adapter, scale);
  const ids = [...prompt];
  const logits: Float32Array[] = [];
  for (let s = 0; s < steps; s++) {
    const row = take(
      tf.tidy(() => {
        const out = model.forward(tf.tensor2d([ids], [1, ids.length], "int32"), linear);
        return tf.slice(out, [0, ids.length - 1, 0], [1, 1, model.hparams.vocabSize]);
      }),
    );
    logits.push(row);
    ids.push(argmax(row));
  }
  return { tokens: ids.slice(prompt.length), logits };
}

/** Greedy decoding of several sequences at once through the cache: one prefill, then one token per row per step. */
function cachedBatch(dec: KvDecoder, model: Gpt2, prompts: number[][], rows: Row[], steps: number) {
  const linear = () => linearFor(model, rows);
  const first = dec.prefill(prompts, linear());
  let caches: SequenceKv[] = first.caches;
  let data = take(first.logits);
  const V = dec.vocabSize;
  const tokens: number[][] = prompts.map(() => []);
  const logits: Float32Array[][] = prompts.map(() => []);
  for (let s = 0; s < steps; s++) {
    const next = prompts.map((_, i) => {
      const row = data.slice(i * V, (i + 1) * V);
      logits[i]?.push(row);
      const t = argmax(row);
      tokens[i]?.push(t);
      return t;
    });
    if (s + 1 === steps) break;
    const step = dec.decode(next, caches, linear());
    for (const c of caches) disposeSequenceKv(c);
    caches = step.caches;
    data = take(step.logits);
  }
  for (const c of caches) disposeSequenceKv(c);
  return { tokens, logits };
}

describe("KV-cached greedy decoding on the fixture hf-gpt2-lmhead-tiny", () => {
  const g = readGolden<{ greedy_prompt_ids: number[]; greedy_base: number[]; greedy_adapter: number[] }>(
    "gpt2-lmhead-tiny",
  );
  let model: Gpt2;
  let lora: AdapterWeights;
  let resident: ResidentAdapter;
  beforeAll(async () => {
    model = new Gpt2(await readHfFiles(fixturePath("hf-gpt2-lmhead-tiny")));
    const files = await readPeftFiles(goldenPath("adapters", "gpt2-lmhead-tiny-lora"));
    lora = peftAdapterFromBytes("lora", files.config, files.weights);
    resident = ResidentAdapter.fromWeights("lora", peftAdapterFromBytes("lora", files.config, files.weights), model);
  });
  afterAll(() => {
    model.dispose();
    resident.dispose();
    for (const m of lora.modules.values()) tf.dispose([m.a, m.b]);
  });

  it("gives NumPy's tokens and the recomputed ones, for __base__ and the adapter, batched together", () => {
    const dec = kvDecoderFor(model) as KvDecoder;
    const before = tf.memory().numTensors;
    const p = g.greedy_prompt_ids;
    const out = cachedBatch(
      dec,
      model,
      [p, p],
      [
        { adapter: null, scale: 1 },
        { adapter: resident, scale: 1 },
      ],
      6,
    );
    expect(out.tokens[0]).toEqual(g.greedy_base);
    expect(out.tokens[1]).toEqual(g.greedy_adapter);
    expect(recompute(model, p, 6).tokens).toEqual(g.greedy_base);
    expect(recompute(model, p, 6, lora).tokens).toEqual(g.greedy_adapter);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe("KV-cached greedy decoding on the fixture hf-gpt2-tiny with a tied LM head", () => {
  let model: Gpt2;
  let lora: AdapterWeights;
  let resident: ResidentAdapter;
  const load = async () => {
    const files = await readPeftFiles(goldenPath("adapters", "gpt2-tiny-lora"));
    const a = peftAdapterFromBytes("lora", files.config, files.weights);
    // The adapter names GPT2Model modules (h.0...); with the LM head they live under transformer.
    return { modules: new Map([...a.modules].map(([k, v]) => [`transformer.${k}`, v])) } as AdapterWeights;
  };
  beforeAll(async () => {
    model = new Gpt2(await readHfFiles(fixturePath("hf-gpt2-tiny")), { lmHead: true });
    lora = await load();
    resident = ResidentAdapter.fromWeights("lora", await load(), model);
  });
  afterAll(() => {
    model.dispose();
    resident.dispose();
    for (const m of lora.modules.values()) tf.dispose([m.a, m.b]);
  });

  it("matches recompute token for token and logit for logit, for both adapters and scales", () => {
    const dec = kvDecoderFor(model) as KvDecoder;
    const prompts = [[1, 2, 3], [4, 5, 6, 7, 8], [9]];
    const rows = [
      { adapter: null, scale: 1 },
      { adapter: resident, scale: 1 },
      { adapter: resident, scale: 0.5 },
    ];
    const out = cachedBatch(dec, model, prompts, rows, 10);
    prompts.forEach((p, i) => {
      const ref = recompute(model, p, 10, rows[i]?.adapter ? lora : undefined, rows[i]?.scale);
      expect(out.tokens[i]).toEqual(ref.tokens);
      ref.logits.forEach((l, s) => {
        expect(mismatches(out.logits[i]?.[s] as Float32Array, l, 1e-4, 1e-5)).toEqual([]);
      });
    });
  });
});

describe("KV-cached decoding on a synthetic GPT-2 with 3 layers and 4 heads", () => {
  for (const inverseLayerIdx of [false, true]) {
    describe(`scale_attn_by_inverse_layer_idx=${inverseLayerIdx}`, () => {
      let model: Gpt2;
      const specs = [1, 2, 3].map((seed) => ({ rank: 4, seed }));
      const arrays: AdapterWeights[] = [];
      const residents: ResidentAdapter[] = [];
      beforeAll(() => {
        model = createSyntheticGpt2({
          vocab: 97,
          dim: 64,
          layers: 3,
          heads: 4,
          positions: 64,
          seed: 5,
          config: { scale_attn_by_inverse_layer_idx: inverseLayerIdx },
        });
        for (const s of specs) {
          arrays.push(syntheticAdapter(model, s));
          residents.push(ResidentAdapter.fromWeights(`a${s.seed}`, syntheticAdapter(model, s), model));
        }
      });
      afterAll(() => {
        model.dispose();
        for (const r of residents) r.dispose();
        for (const a of arrays) for (const m of a.modules.values()) tf.dispose([m.a, m.b]);
      });

      it("every adapter and __base__, mixed in one batch of ragged prompts, equals its recompute", () => {
        const dec = kvDecoderFor(model) as KvDecoder;
        const before = tf.memory().numTensors;
        const names = [BASE_ADAPTER, "a1", "a2", "a3", "a1"];
        const prompts = [[5, 6, 7], [1], [10, 20, 30, 40, 50, 60, 70], [3, 3], [8, 9, 10, 11]];
        const rows = names.map((n, i) => ({
          adapter: n === BASE_ADAPTER ? null : (residents[Number(n.slice(1)) - 1] as ResidentAdapter),
          scale: i === 4 ? 0.5 : 1,
        }));
        const steps = 16;
        const out = cachedBatch(dec, model, prompts, rows, steps);
        const distinct = new Set<string>();
        prompts.forEach((p, i) => {
          const n = names[i] as string;
          const ref = recompute(
            model,
            p,
            steps,
            n === BASE_ADAPTER ? undefined : arrays[Number(n.slice(1)) - 1],
            rows[i]?.scale,
          );
          expect(out.tokens[i]).toEqual(ref.tokens);
          ref.logits.forEach((l, s) => {
            expect(mismatches(out.logits[i]?.[s] as Float32Array, l, 1e-3, 1e-4)).toEqual([]);
          });
          distinct.add(ref.tokens.join(","));
        });
        // The adapters change the text, so equal tokens are not a coincidence of one dominant token.
        expect(distinct.size).toBeGreaterThanOrEqual(4);
        expect(tf.memory().numTensors).toBe(before);
      });

      it("the batch cache (left-padded, rows joining and leaving) gives each row its recomputed tokens and logits", () => {
        const dec = kvDecoderFor(model) as KvDecoder;
        const before = tf.memory().numTensors;
        const rowOf = (n: string) => ({
          adapter: n === BASE_ADAPTER ? null : (residents[Number(n.slice(1)) - 1] as ResidentAdapter),
          scale: 1,
        });
        const prompts: Record<string, number[]> = {
          x: [5, 6, 7],
          y: [1, 2, 3, 4, 5, 6, 7, 8],
          z: [9],
          w: [4, 4, 4, 4, 4],
        };
        const adapterOf: Record<string, string> = { x: "a1", y: BASE_ADAPTER, z: "a3", w: "a2" };
        const batch = new BatchKv();
        let order: string[] = [];
        const out: Record<string, { tokens: number[]; logits: Float32Array[] }> = {};
        const V = dec.vocabSize;
        const join = (names: string[]) => {
          const pre = dec.prefill(
            names.map((n) => prompts[n] as number[]),
            linearFor(
              model,
              names.map((n) => rowOf(adapterOf[n] as string)),
            ),
          );
          const data = take(pre.logits);
          names.forEach((n, i) => {
            const row = data.slice(i * V, (i + 1) * V);
            out[n] = { tokens: [argmax(row)], logits: [row] };
          });
          batch.join(pre.caches);
          order.push(...names);
        };
        const step = () => {
          const logits = take(
            dec.decodeBatch(
              order.map((n) => out[n]?.tokens.at(-1) as number),
              batch,
              linearFor(
                model,
                order.map((n) => rowOf(adapterOf[n] as string)),
              ),
            ),
          );
          order.forEach((n, i) => {
            const row = logits.slice(i * V, (i + 1) * V);
            out[n]?.logits.push(row);
            out[n]?.tokens.push(argmax(row));
          });
        };
        join(["x", "y"]);
        for (let i = 0; i < 4; i++) step();
        join(["z"]); // shorter than the batch: left-padded
        for (let i = 0; i < 3; i++) step();
        const columns = batch.columns;
        batch.retain([0, 2]); // y (the longest) leaves: leading columns no row uses are cut
        order = ["x", "z"];
        expect(batch.columns).toBeLessThan(columns);
        expect(batch.columns).toBe(Math.max(...batch.lengths));
        join(["w"]);
        for (let i = 0; i < 5; i++) step();
        for (const n of ["x", "y", "z", "w"]) {
          const got = out[n] as { tokens: number[]; logits: Float32Array[] };
          const a = adapterOf[n] as string;
          const ref = recompute(
            model,
            prompts[n] as number[],
            got.tokens.length,
            a === BASE_ADAPTER ? undefined : arrays[Number(a.slice(1)) - 1],
          );
          expect(got.tokens).toEqual(ref.tokens);
          ref.logits.forEach((l, s) => {
            expect(mismatches(got.logits[s] as Float32Array, l, 1e-3, 1e-4)).toEqual([]);
          });
        }
        batch.dispose();
        expect(tf.memory().numTensors).toBe(before);
      });

      it("a sequence decoded alone equals the same sequence decoded beside others", () => {
        const dec = kvDecoderFor(model) as KvDecoder;
        const row = { adapter: residents[1] as ResidentAdapter, scale: 1 };
        const alone = cachedBatch(dec, model, [[2, 4, 6]], [row], 12);
        const batched = cachedBatch(
          dec,
          model,
          [
            [9, 9, 9, 9, 9, 9],
            [2, 4, 6],
          ],
          [{ adapter: null, scale: 1 }, row],
          12,
        );
        expect(batched.tokens[1]).toEqual(alone.tokens[0]);
      });
    });
  }
});
