import { fixturePath } from "@lowrank/vitest-config/fixtures";
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { peftAdapterFromBytes, readPeftFiles } from "../engine/peftLoader.js";
import type { AdapterWeights } from "../engine/types.js";
import { loadTokenizer, type TextTokenizer } from "../tokenizer/loadTokenizer.js";
import type { Gpt2 } from "./Gpt2.js";
import { generate, generateIds } from "./generate.js";
import { loadHfModel } from "./loadHfModel.js";
import { argmax, sampleToken } from "./sampleToken.js";
import { goldenPath, readGolden } from "./testing.js";

describe("sampleToken", () => {
  it("is argmax when greedy, and draws only from the top k otherwise", () => {
    const logits = [0.1, 2, -1, 1.9, 0];
    expect(sampleToken(logits, {}, () => 0.99)).toBe(1);
    expect(argmax([3, 3, 1])).toBe(0);
    const seen = new Set<number>();
    for (let i = 0; i < 200; i++) seen.add(sampleToken(logits, { temperature: 5, topK: 2 }, () => i / 200));
    expect([...seen].sort()).toEqual([1, 3]);
    // Ties at the k-th value keep the lower indices.
    const tied = new Set<number>();
    for (let i = 0; i < 100; i++) tied.add(sampleToken([1, 5, 1, 1, 0], { temperature: 1, topK: 3 }, () => i / 100));
    expect([...tied].sort()).toEqual([0, 1, 2]);
  });

  it("draws by softmax(logits / T): hand-computed cut points", () => {
    // T = 1, logits [0, ln 3]: probabilities 1/4 and 3/4.
    const logits = [0, Math.log(3)];
    expect(sampleToken(logits, { temperature: 1 }, () => 0.2499)).toBe(0);
    expect(sampleToken(logits, { temperature: 1 }, () => 0.2501)).toBe(1);
    // T = 2 flattens to sqrt: [1, sqrt 3] / (1 + sqrt 3): cut at 0.366.
    expect(sampleToken(logits, { temperature: 2 }, () => 0.36)).toBe(0);
    expect(sampleToken(logits, { temperature: 2 }, () => 0.37)).toBe(1);
  });
});

describe("generate on hf-gpt2-lmhead-tiny", () => {
  const g = readGolden<{ greedy_prompt_ids: number[]; greedy_base: number[]; greedy_adapter: number[] }>(
    "gpt2-lmhead-tiny",
  );
  let model: Gpt2;
  let tok: TextTokenizer;
  let lora: AdapterWeights;
  beforeAll(async () => {
    model = (await loadHfModel(fixturePath("hf-gpt2-lmhead-tiny"))) as Gpt2;
    tok = await loadTokenizer(fixturePath("hf-gpt2-lmhead-tiny"));
    const { config, weights } = await readPeftFiles(goldenPath("adapters", "gpt2-lmhead-tiny-lora"));
    lora = peftAdapterFromBytes("lora", config, weights);
  });
  afterAll(() => {
    model.dispose();
    for (const m of lora.modules.values()) tf.dispose([m.a, m.b]);
  });

  it("greedy decoding with the KV cache gives NumPy's tokens, with and without the adapter", async () => {
    const before = tf.memory().numTensors;
    const base = await generateIds(model, g.greedy_prompt_ids, { maxNewTokens: 6 });
    expect(base.generatedIds).toEqual(g.greedy_base);
    const adapted = await generateIds(model, g.greedy_prompt_ids, { maxNewTokens: 6, adapter: lora });
    expect(adapted.generatedIds).toEqual(g.greedy_adapter);
    expect(tf.memory().numTensors).toBe(before);
  });

  it("generates text end to end from a prompt; the same seed repeats, top-k 1 is greedy", async () => {
    const prompt = "The quick brown fox";
    expect(tok.encode(prompt)).toEqual(g.greedy_prompt_ids);
    const greedy = await generate(model, tok, prompt, { maxNewTokens: 6, adapter: lora });
    expect(greedy.generatedIds).toEqual(g.greedy_adapter);
    expect(greedy.text).toBe(prompt + greedy.completion);
    expect(greedy.completion).toBe(tok.decode(g.greedy_adapter));
    const a = await generate(model, tok, prompt, { maxNewTokens: 8, temperature: 1.5, topK: 50, seed: 7 });
    const b = await generate(model, tok, prompt, { maxNewTokens: 8, temperature: 1.5, topK: 50, seed: 7 });
    const c = await generate(model, tok, prompt, { maxNewTokens: 8, temperature: 1.5, topK: 50, seed: 8 });
    expect(a.generatedIds).toEqual(b.generatedIds);
    expect(a.generatedIds).not.toEqual(c.generatedIds);
    const k1 = await generate(model, tok, prompt, { maxNewTokens: 6, temperature: 1, topK: 1, seed: 3, adapter: lora });
    expect(k1.generatedIds).toEqual(g.greedy_adapter);
  });

  it("stops at end-of-sequence and at the context limit, and rejects bad options", async () => {
    const eos = await generateIds(model, [1, 2], { maxNewTokens: 3, eosTokenId: g.greedy_base[0] as number });
    expect(eos.finishReason).toBe("eos");
    await expect(generateIds(model, [1, 2], { temperature: -1 })).rejects.toMatchObject({ code: "InvalidArgument" });
    await expect(generateIds(model, [60000])).rejects.toMatchObject({ code: "InvalidArgument" });
  });
});
