// The runtime's CharSeq2Seq (an independent implementation: gather embeddings, additive masks, the
// runtime's LoRA path) against the recipe's own tfjs Seq2Seq (one-hot embeddings, core's LoraLinear):
// same logits and the same greedy words, for the base and for each adapter; and the manifest the
// runtime reports equals the one @lowrank/formats computes from the safetensors header.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { adapterFromPeft, adapterToPeft, injectLora, Rng } from "@lowrank/core";
import {
  manifestFromHeader,
  type PeftConfig,
  parseSafetensors,
  serializePeftConfig,
  serializeSafetensors,
} from "@lowrank/formats";
import {
  type AdapterWeights,
  adapterLinear,
  CharSeq2Seq,
  isRuntimeError,
  peftAdapterFromBytes,
} from "@lowrank/runtime";
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TranslitLanguage } from "../data/udhrPairs.js";
import { disposeDomains } from "../lib/disposeTask.js";
import { Seq2Seq } from "../lib/Seq2Seq.js";
import {
  encodePairs,
  greedyDecode,
  seq2seqConfig,
  TGT_LEN,
  translitDomain,
  translitVocab,
} from "../recipes/translation.js";
import { seq2seqConfigJson, seq2seqSafetensors, seq2seqTensorName } from "./seq2seqFiles.js";
import { wordsOf } from "./translitWords.js";

const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../artifacts/translation");
const vocab = translitVocab();
const read = (...p: string[]) => new Uint8Array(readFileSync(path.join(dir, ...p)));

/** The recipe's model with the weights of a saved `model.safetensors` (names mapped back). */
function recipeModel(weights: Uint8Array): Seq2Seq {
  const m = new Seq2Seq(seq2seqConfig(vocab.size + 3), 1);
  const file = parseSafetensors(weights);
  for (const [name, v] of m.namedVariables()) {
    const t = file.getTensor(seq2seqTensorName(m, name));
    v.assign(tf.tensor(new Float32Array(t.data.slice().buffer), v.shape));
  }
  return m;
}

/** Greedy words by the recipe's decoder (ids -> characters up to EOS). */
function recipeWords(forward: (x: tf.Tensor) => tf.Tensor, words: string[]): string[] {
  const chars = new Map([...vocab].map(([c, id]) => [id, c]));
  const split = encodePairs(
    words.map((w) => [w, ""]),
    vocab,
  );
  const ids = greedyDecode(forward, split.x);
  tf.dispose([split.x, split.y]);
  return words.map((_, i) => {
    let s = "";
    for (let t = 0; t < TGT_LEN; t++) {
      const id = ids[i * TGT_LEN + t] as number;
      if (id === 2) break;
      s += chars.get(id) ?? "";
    }
    return s;
  });
}

/** Largest |a - b| / (1 + |b|): float32 sums in another order differ by about 1e-6 of the magnitude. */
function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++)
    m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)) / (1 + Math.abs(b[i] as number)));
  return m;
}

/** Recipe-model input rows for `words` with a partial target (teacher forcing on the words themselves). */
function rows(words: string[]): tf.Tensor {
  const split = encodePairs(
    words.map((w) => [w, w.slice(0, 5)]),
    vocab,
  );
  split.y.dispose();
  return split.x;
}

describe("CharSeq2Seq = the translation recipe's Seq2Seq (seeded weights, random adapter)", () => {
  it("gives the same logits and greedy words, with and without a LoRA adapter", () => {
    const recipe = new Seq2Seq(seq2seqConfig(vocab.size + 3), 7);
    const model = CharSeq2Seq.fromBytes(seq2seqConfigJson(recipe, vocab), seq2seqSafetensors(recipe));
    const words = ["свет", "шума", "човек", "љубав", "вода"];
    const x = rows(words);
    const want = tf.tidy(() => recipe.forward(x, { training: false }).dataSync());
    const got = tf.tidy(() => model.forward(x).dataSync());
    expect(maxDiff(got, want)).toBeLessThan(1e-4);
    expect(words.map((w) => model.transliterate(w))).toEqual(
      recipeWords((t) => recipe.forward(t, { training: false }), words),
    );
    // A LoRA adapter with non-zero B on every linear module but the head: core's LoraLinear in the
    // recipe model, and the same adapter through PEFT files into the runtime.
    const lora = injectLora(recipe, { r: 2, lora_alpha: 6, target_modules: "all-linear" }, { seed: 3 });
    const rng = new Rng(11);
    for (const v of lora.trainableVariables()) v.assign(tf.tensor(rng.fillNormal(v.size, 0.15), v.shape));
    const peft = adapterToPeft(lora, "default");
    const adapter = peftAdapterFromBytes(
      "random",
      serializePeftConfig(peft.config as PeftConfig),
      serializeSafetensors(peft.tensors),
    );
    const linear = adapterLinear(model, adapter);
    const wantA = tf.tidy(() => lora.forward(x).dataSync());
    const gotA = tf.tidy(() => model.forward(x, linear).dataSync());
    expect(maxDiff(gotA, wantA)).toBeLessThan(1e-4);
    expect(maxDiff(gotA, got)).toBeGreaterThan(1e-2);
    expect(words.map((w) => model.transliterate(w, linear))).toEqual(recipeWords((t) => lora.forward(t), words));
    for (const m of adapter.modules.values()) tf.dispose([m.a, m.b]);
    lora.dispose();
    recipe.dispose();
    model.dispose();
    x.dispose();
  });
});

const haveArtifacts = existsSync(path.join(dir, "hub.json"));
describe.runIf(haveArtifacts || process.env.CI)("CharSeq2Seq on the committed translation artifacts", () => {
  let model: CharSeq2Seq;
  let recipe: Seq2Seq;
  const hub = haveArtifacts ? JSON.parse(readFileSync(path.join(dir, "hub.json"), "utf8")) : { adapters: [] };
  beforeAll(() => {
    model = CharSeq2Seq.fromBytes(read("base", "config.json"), read("base", "model.safetensors"));
    recipe = recipeModel(read("base", "model.safetensors"));
  });
  afterAll(() => {
    model?.dispose();
    recipe?.dispose();
  });

  it("reports the manifest @lowrank/formats computes from the safetensors header", () => {
    const config = JSON.parse(new TextDecoder().decode(read("base", "config.json")));
    const header = manifestFromHeader(config, parseSafetensors(read("base", "model.safetensors")).tensors);
    expect(model.manifest().digest).toBe(header.digest);
    expect(model.manifest()).toEqual(header);
    expect(header.architecture).toBe("CharSeq2Seq");
    expect(Object.keys(header.modules)).toContain("decoder.layers.0.encoder_attn.q_proj");
    expect(Object.keys(header.modules).some((m) => m.startsWith("embed_"))).toBe(false);
  });

  it("the base: same logits and greedy words as the recipe model, and the card's held-out accuracy", () => {
    const words = hub.base.input.examples as string[];
    const x = rows(words);
    const want = tf.tidy(() => recipe.forward(x, { training: false }).dataSync());
    const got = tf.tidy(() => model.forward(x).dataSync());
    x.dispose();
    expect(maxDiff(got, want)).toBeLessThan(1e-4);
    expect(words.map((w) => model.transliterate(w))).toEqual(
      recipeWords((t) => recipe.forward(t, { training: false }), words),
    );
    const domain = translitDomain("Serbian + Bosnian", ["srp", "bos"], vocab);
    const test = wordsOf(domain.test, vocab);
    disposeDomains([domain]);
    const right = test.filter(([cyr, lat]) => model.transliterate(cyr) === lat).length;
    expect(right / test.length).toBeCloseTo(hub.base.heldOutAccuracy, 10);
    for (const e of hub.base.expected as { input: string; output: string }[])
      expect(model.transliterate(e.input)).toBe(e.output);
  }, 60_000);

  type HubAdapter = { name: string; heldOutAccuracy: number; expected: { input: string; output: string }[] };
  const LANGS: Record<string, { lang: TranslitLanguage; domain: string }> = {
    "translit-uzbek": { lang: "uzn", domain: "Uzbek" },
    "translit-azerbaijani": { lang: "azj", domain: "Azerbaijani" },
  };
  for (const a of (hub.adapters as HubAdapter[]).map((x) => ({ ...x, ...(LANGS[x.name] as (typeof LANGS)[string]) }))) {
    it(`adapter ${a.name}: same logits and greedy words as the recipe with core's LoRA, and the card's examples`, () => {
      const config = read("adapters", a.name, "adapter_config.json");
      const weights = read("adapters", a.name, "adapter_model.safetensors");
      const rt: AdapterWeights = peftAdapterFromBytes(a.name, config, weights);
      const linear = adapterLinear(model, rt);
      const lora = injectLora(recipe, JSON.parse(new TextDecoder().decode(config)), { adapterName: "init" });
      const file = parseSafetensors(weights);
      const tensors = new Map(file.names().map((n) => [n, file.getTensor(n)]));
      adapterFromPeft(lora, { config: JSON.parse(new TextDecoder().decode(config)), tensors }, a.name);
      lora.setActiveAdapters([a.name]);
      const words = [...a.expected.map((e) => e.input), ...(hub.base.input.examples as string[])];
      const x = rows(words);
      const want = tf.tidy(() => lora.forward(x).dataSync());
      const got = tf.tidy(() => model.forward(x, linear).dataSync());
      x.dispose();
      expect(maxDiff(got, want)).toBeLessThan(1e-4);
      const mine = words.map((w) => model.transliterate(w, linear));
      expect(mine).toEqual(recipeWords((t) => lora.forward(t), words));
      expect(mine.slice(0, a.expected.length)).toEqual(a.expected.map((e) => e.output));
      // The adapter changes something the base says.
      expect(mine).not.toEqual(words.map((w) => model.transliterate(w)));
      // Every held-out word of the adapter's language, decoded by the runtime: the accuracy on the card.
      const domain = translitDomain(a.domain, [a.lang], vocab);
      const test = wordsOf(domain.test, vocab);
      disposeDomains([domain]);
      const right = test.filter(([cyr, lat]) => model.transliterate(cyr, linear) === lat).length;
      expect(right / test.length).toBeCloseTo(a.heldOutAccuracy, 10);
      lora.dispose();
      for (const m of rt.modules.values()) tf.dispose([m.a, m.b]);
    }, 60_000);
  }
});

describe("CharSeq2Seq input errors", () => {
  it("refuses unknown characters, empty and too long words with InvalidArgument", () => {
    const recipe = new Seq2Seq(seq2seqConfig(vocab.size + 3), 1);
    const model = CharSeq2Seq.fromBytes(seq2seqConfigJson(recipe, vocab), seq2seqSafetensors(recipe));
    recipe.dispose();
    for (const bad of ["", "ж".repeat(17), "abc€"]) {
      let caught: unknown;
      try {
        model.transliterate(bad);
      } catch (e) {
        caught = e;
      }
      expect(isRuntimeError(caught, "InvalidArgument")).toBe(true);
    }
    expect(model.checkInput([36])).toBeUndefined();
    expect(model.checkInput([35])).toMatch(/expected \[36\] ids/);
    model.dispose();
  });
});
