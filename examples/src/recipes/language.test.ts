import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { isRecipe, trainAdapter } from "@lowrank/core";
import { type Gpt2, loadHfModel } from "@lowrank/runtime";
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lmWindows, meanLoss, nextTokenLoss } from "../lib/lmData.js";
import { TinyGpt2 } from "../lib/TinyGpt2.js";
import {
  baseFiles,
  type LanguageSettings,
  language,
  languageSplits,
  runtimeBase,
  trainBase,
  trainLanguageAdapter,
} from "./language.js";

/** A small, fast configuration of the recipe (the full one is in LANGUAGE_SETTINGS). */
const SMALL: LanguageSettings = {
  model: { vocabSize: 256, nEmbd: 32, nHead: 2, nLayer: 1, nPositions: 64 },
  seqLen: 32,
  base: { epochs: 3, learningRate: 1e-2, batchSize: 64 },
  adapter: { epochs: 3, learningRate: 1e-2, batchSize: 64, rank: 4 },
};
const UNIFORM = Math.log(256);

describe("language recipe (small config)", () => {
  let trained: TinyGpt2;
  let gpt2: Gpt2;
  let dir: string;
  beforeAll(async () => {
    trained = (await trainBase(SMALL, 0)).model;
    dir = mkdtempSync(path.join(tmpdir(), "udhr-gpt2-"));
    const files = baseFiles(trained);
    writeFileSync(path.join(dir, "config.json"), JSON.stringify(files.config));
    writeFileSync(path.join(dir, "model.safetensors"), files.weights);
    gpt2 = (await loadHfModel(dir)) as Gpt2;
  }, 600_000);
  afterAll(() => {
    trained.dispose();
    gpt2.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it("exports a Recipe the CLI accepts", () => {
    expect(isRecipe(language)).toBe(true);
    expect(language.loraConfig({ rank: 4 })).toMatchObject({ r: 4, fan_in_fan_out: true });
  });

  it("the saved folder, loaded by the runtime's Gpt2, gives the training model's logits", () => {
    const { train, test } = languageSplits("eng", SMALL.seqLen);
    const x = tf.slice(test.x, 0, 4);
    const ours = trained.forward(x);
    const theirs = gpt2.forward(x);
    expect(theirs.shape).toEqual([4, SMALL.seqLen, 256]);
    const diff = tf.max(tf.abs(tf.sub(ours, theirs))).dataSync()[0] as number;
    const scale = tf.max(tf.abs(ours)).dataSync()[0] as number;
    // Trained weights (not the initialization): the logits span several units.
    expect(scale).toBeGreaterThan(1);
    expect(diff).toBeLessThan(1e-4 * scale);
    tf.dispose([train.x, train.y, test.x, test.y, x, ours, theirs]);
  });

  it("the base learns English: held-out loss well below a uniform guess over bytes", () => {
    const { train, test } = languageSplits("eng", SMALL.seqLen);
    const eng = meanLoss((x) => gpt2.forward(x), test);
    tf.dispose([train.x, train.y, test.x, test.y]);
    console.log(
      `language (small config): held-out English ${eng.toFixed(3)} nats/byte (uniform ${UNIFORM.toFixed(3)})`,
    );
    expect(eng).toBeLessThan(0.7 * UNIFORM);
  });

  it("a French adapter lowers the held-out French loss below the base's and leaves the base untouched", async () => {
    const { train, test } = languageSplits("fra", SMALL.seqLen);
    const before = meanLoss((x) => gpt2.forward(x), test);
    const weights = [...gpt2.parameters.values()].map((v) => Float32Array.from(v.dataSync() as Float32Array));
    const { lora } = await trainLanguageAdapter(gpt2, "fra", SMALL, 0);
    const after = meanLoss((x) => lora.forward(x), test);
    lora.dispose();
    tf.dispose([train.x, train.y, test.x, test.y]);
    console.log(`language (small config): held-out French ${before.toFixed(3)} -> ${after.toFixed(3)} nats/byte`);
    expect(after).toBeLessThan(before - 0.1);
    [...gpt2.parameters.values()].forEach((v, i) => {
      expect(
        Buffer.from((v.dataSync() as Float32Array).buffer).equals(Buffer.from((weights[i] as Float32Array).buffer)),
      ).toBe(true);
    });
  }, 600_000);
});

describe("TinyGpt2", () => {
  it("is causal: logits at a position do not depend on later tokens", () => {
    const m = new TinyGpt2({ vocabSize: 256, nEmbd: 16, nHead: 2, nLayer: 1, nPositions: 16 }, 1);
    const a = m.forward(tf.tensor2d([[72, 101, 108, 108, 111, 33]], undefined, "int32"));
    const b = m.forward(tf.tensor2d([[72, 101, 108, 9, 200, 1]], undefined, "int32"));
    const first = (t: tf.Tensor) => tf.slice(t, [0, 0, 0], [1, 3, 256]).dataSync();
    expect(Array.from(first(a))).toEqual(Array.from(first(b)));
    expect(Array.from(a.dataSync())).not.toEqual(Array.from(b.dataSync()));
    tf.dispose([a, b]);
    m.dispose();
  });

  it("matches the runtime's Gpt2 on random weights with several heads and layers", () => {
    const m = new TinyGpt2({ vocabSize: 256, nEmbd: 24, nHead: 3, nLayer: 2, nPositions: 16 }, 2);
    const g = runtimeBase(m);
    const x = tf.tensor2d([[0, 255, 17, 17, 200, 3, 99]], undefined, "int32");
    const d = tf.max(tf.abs(tf.sub(m.forward(x), g.forward(x)))).dataSync()[0] as number;
    expect(d).toBeLessThan(1e-5);
    m.dispose();
    g.dispose();
  });
});

describe("lmWindows / nextTokenLoss", () => {
  it("y is x shifted by one; a model that puts all mass on the right byte has ~0 loss, uniform has ln 256", async () => {
    const ids = Array.from({ length: 20 }, (_, i) => (i * 7) % 256);
    const w = lmWindows(ids, 8, 4);
    expect(w.x.shape).toEqual([3, 8]);
    expect(Array.from(w.x.dataSync()).slice(8, 16)).toEqual(ids.slice(4, 12));
    expect(Array.from(w.y.dataSync()).slice(8, 16)).toEqual(ids.slice(5, 13));
    const perfect = tf.mul(tf.oneHot(tf.cast(w.y, "int32"), 256), 100);
    expect(nextTokenLoss(w.y, perfect).dataSync()[0]).toBeLessThan(1e-6);
    expect(nextTokenLoss(w.y, tf.zeros([3, 8, 256])).dataSync()[0]).toBeCloseTo(UNIFORM, 5);
    // trainAdapter accepts the windows as rows.
    const m = new TinyGpt2({ vocabSize: 256, nEmbd: 8, nHead: 1, nLayer: 1, nPositions: 8 }, 0);
    const r = await trainAdapter({ model: m, data: w, loss: nextTokenLoss, epochs: 1, batchSize: 2 });
    expect(r.steps).toBe(2);
    m.dispose();
    tf.dispose([w.x, w.y, perfect]);
  });
});
