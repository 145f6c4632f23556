// modules_to_save as PEFT's ModulesToSaveWrapper: each adapter trains its own copy of the module, the base's
// own values come back whenever no adapter owning a copy is active, and the copies travel in PEFT files.
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { describe, expect, it } from "vitest";
import { maxAbsDiff, Rng, randomArray } from "../../test/reference.js";
import { parseLoraConfig } from "../config/LoraConfig.js";
import { isCoreError } from "../errors.js";
import { adapterFromPeft, adapterToPeft } from "../peft/peftBridge.js";
import { trainAdapter } from "../train/trainAdapter.js";
import { countParameters, injectLora } from "./injectLora.js";
import type { LinearHost, LinearModule } from "./LinearHost.js";
import type { LoraModel } from "./LoraModel.js";

function mlp(): tfl.LayersModel {
  const init = (seed: number) => tfl.initializers.glorotUniform({ seed });
  const m = tfl.sequential();
  m.add(tfl.layers.dense({ units: 6, inputShape: [5], activation: "relu", name: "fc1", kernelInitializer: init(1) }));
  m.add(tfl.layers.dense({ units: 3, name: "head", kernelInitializer: init(3) }));
  return m;
}

const values = (model: tfl.LayersModel, layer: string) =>
  (model.getLayer(layer).getWeights() as tf.Tensor[]).map((t) => Array.from(t.dataSync()));

function floats(t: { data: Uint8Array } | undefined): Float32Array {
  if (!t) throw new Error("expected a tensor, found none");
  return new Float32Array(t.data.slice().buffer);
}

/** Adam at 0.05, batches of 8: enough for a copy of the head to move visibly. */
function fit(model: LoraModel, d: { x: tf.Tensor; y: tf.Tensor }, epochs: number) {
  return trainAdapter({ model, data: d, loss: "softmaxCrossEntropy", epochs, batchSize: 8, learningRate: 0.05 });
}

const CONFIG = { r: 2, lora_alpha: 4, target_modules: ["fc1"], modules_to_save: ["head"] };

function data(seed: number) {
  const rng = new Rng(seed);
  const x = tf.tensor2d(randomArray(rng, 40 * 5), [40, 5]);
  const labels = Array.from({ length: 40 }, (_, i) => (i * 7 + seed) % 3);
  const y = tf.tidy(() => tf.oneHot(tf.tensor1d(labels, "int32"), 3));
  return { x, y };
}

describe("modules_to_save", () => {
  it("each adapter trains its own copy; the base's values return when disabled, on switching and after dispose", async () => {
    const model = mlp();
    const original = values(model, "head");
    const start = tf.memory().numTensors;
    const lora = injectLora(model, CONFIG, { seed: 1 });

    // Counted as PEFT counts them: the copy trains, and the original module stays in the total.
    const c = countParameters(lora);
    const lora1 = 5 * 2 + 2 * 6;
    const head = 6 * 3 + 3;
    expect(c.trainable).toBe(lora1 + head);
    expect(c.total).toBe(model.countParams() + lora1 + head);

    const d = data(1);
    await fit(lora, d, 3);
    const trainedA = values(model, "head");
    expect(maxAbsDiff(trainedA[0] as number[], original[0] as number[])).toBeGreaterThan(1e-3);

    lora.disableAdapters();
    expect(values(model, "head")).toEqual(original); // bit-identical
    lora.enableAdapters();
    expect(values(model, "head")).toEqual(trainedA);

    // A second adapter starts from the base's module, not from the first adapter's copy.
    lora.addAdapter("b", parseLoraConfig(CONFIG), { seed: 2 });
    lora.setActiveAdapters(["b"]);
    expect(values(model, "head")).toEqual(original);
    const d2 = data(2);
    await fit(lora, d2, 2);
    tf.dispose([d2.x, d2.y]);
    const trainedB = values(model, "head");
    expect(maxAbsDiff(trainedB[0] as number[], original[0] as number[])).toBeGreaterThan(1e-3);
    lora.setActiveAdapters(["default"]);
    expect(values(model, "head")).toEqual(trainedA);
    lora.setActiveAdapters(["b"]);
    expect(values(model, "head")).toEqual(trainedB);

    // Two active adapters with their own copies of one module cannot both be in place.
    let code = "";
    try {
      lora.setActiveAdapters(["default", "b"]);
    } catch (e) {
      code = isCoreError(e) ? e.code : "other";
    }
    expect(code).toBe("InvalidArgument");
    expect(lora.activeAdapters).toEqual(["b"]);

    lora.deleteAdapter("b");
    expect(values(model, "head")).toEqual(original);
    lora.setActiveAdapters(["default"]);
    expect(values(model, "head")).toEqual(trainedA);
    lora.dispose();
    expect(values(model, "head")).toEqual(original);
    tf.dispose([d.x, d.y]);
    expect(tf.memory().numTensors).toBe(start); // copies and originals freed
    model.dispose();
  });

  it("refuses a module that is both adapted and saved", () => {
    const model = mlp();
    let code = "";
    try {
      injectLora(model, { r: 2, target_modules: ["fc1", "head"], modules_to_save: ["head"] });
    } catch (e) {
      code = isCoreError(e) ? e.code : "other";
    }
    expect(code).toBe("InvalidConfig");
    model.dispose();
  });

  it("PEFT files carry the copy as base_model.model.<module>.<param> in torch layout, and load back", async () => {
    const model = mlp();
    const lora = injectLora(model, CONFIG, { seed: 1 });
    const d = data(3);
    await fit(lora, d, 2);
    const [kernel, bias] = values(model, "head") as [number[], number[]];
    const x = tf.tensor2d(randomArray(new Rng(9), 4 * 5), [4, 5]);
    const want = (model.predict(x) as tf.Tensor).dataSync();

    const peft = adapterToPeft(lora);
    const w = peft.tensors.get("base_model.model.head.weight");
    const b = peft.tensors.get("base_model.model.head.bias");
    expect(w?.shape).toEqual([3, 6]); // torch Linear [out, in]; tfjs Dense kernel is [in, out]
    const wv = floats(w);
    for (let o = 0; o < 3; o++) for (let i = 0; i < 6; i++) expect(wv[o * 6 + i]).toBe(kernel[i * 3 + o]);
    expect(Array.from(floats(b))).toEqual(bias);

    // A fresh copy of the same base with another adapter active: loading "a" brings its own head along.
    const model2 = mlp();
    const lora2 = injectLora(model2, { r: 2, target_modules: ["fc1"] }, { seed: 5 });
    const { loaded, ignored } = adapterFromPeft(lora2, peft, "a");
    expect(loaded).toContain("base_model.model.head.weight");
    expect(ignored).toEqual([]);
    const before = values(model2, "head");
    lora2.setActiveAdapters(["a"]);
    expect(maxAbsDiff((model2.predict(x) as tf.Tensor).dataSync(), want)).toBeLessThan(1e-5);
    lora2.setActiveAdapters(["default"]);
    expect(values(model2, "head")).toEqual(before);
    for (const m of [lora, lora2]) m.dispose();
    tf.dispose([x, d.x, d.y]);
    model.dispose();
    model2.dispose();
  });

  it("a host model's linear weight is saved transposed to torch layout unless fan_in_fan_out", () => {
    const rng = new Rng(4);
    const v = (vals: Float32Array, shape: [number, number]) => tf.variable(tf.tensor2d(vals, shape), false);
    const up = { weight: v(randomArray(rng, 12), [4, 3]) } as LinearModule;
    const head = { weight: v(randomArray(rng, 6), [3, 2]) } as LinearModule;
    const host: LinearHost = {
      linearModules: () =>
        new Map([
          ["block.0.up", up],
          ["lm_head", head],
        ]),
    };
    const headValues = Array.from(head.weight.dataSync());
    for (const fanInFanOut of [false, true]) {
      const lora = injectLora(host, {
        r: 1,
        target_modules: ["up"],
        modules_to_save: ["lm_head"],
        fan_in_fan_out: fanInFanOut,
      });
      const t = adapterToPeft(lora).tensors.get("base_model.model.lm_head.weight");
      const got = Array.from(floats(t));
      if (fanInFanOut) {
        expect(t?.shape).toEqual([3, 2]);
        expect(got).toEqual(headValues);
      } else {
        expect(t?.shape).toEqual([2, 3]);
        for (let o = 0; o < 2; o++) for (let i = 0; i < 3; i++) expect(got[o * 3 + i]).toBe(headValues[i * 2 + o]);
      }
      lora.dispose();
    }
    tf.dispose([up.weight, head.weight]);
  });

  it("keeps state whole: failed injection, conflicting activations, flags and counts", () => {
    const m3 = () => {
      const init = (seed: number) => tfl.initializers.glorotUniform({ seed });
      const m = tfl.sequential();
      m.add(tfl.layers.dense({ units: 6, inputShape: [5], name: "fc1", kernelInitializer: init(1) }));
      m.add(tfl.layers.dense({ units: 4, name: "fc2", kernelInitializer: init(2) }));
      m.add(tfl.layers.dense({ units: 3, name: "head", kernelInitializer: init(3) }));
      return m;
    };
    const model = m3();
    const names = (m: tfl.LayersModel) => m.trainableWeights.map((w) => w.originalName).sort();
    const all = names(model);
    // A config that matches nothing leaves the model as it was (not frozen).
    expect(() => injectLora(model, { target_modules: ["typo"] })).toThrow(/matched no module/);
    expect(names(model)).toEqual(all);

    const lora = injectLora(model, { r: 1, target_modules: ["fc1"] });
    lora.addAdapter("a", parseLoraConfig({ r: 1, target_modules: ["fc1"], modules_to_save: ["fc2", "head"] }));
    lora.addAdapter("b", parseLoraConfig({ r: 1, target_modules: ["fc1"], modules_to_save: ["head"] }));
    // Copies of inactive adapters are not trained by fit: only the active adapters' LoRA factors show.
    expect(model.trainableWeights).toHaveLength(2);
    const fc2 = values(model, "fc2");
    expect(() => lora.setActiveAdapters(["a", "b"])).toThrow(/at most one active adapter/);
    expect(lora.activeAdapters).toEqual(["default"]);
    expect(values(model, "fc2")).toEqual(fc2); // nothing was swapped before the conflict was found
    expect(lora.trainableVariables()).toHaveLength(2);

    // Setting the copy of an active adapter puts it in place at once, and makes it trainable.
    lora.setActiveAdapters(["a"]);
    expect(names(model)).toEqual(expect.arrayContaining(["fc2/kernel", "head/bias"]));
    lora.setSavedModule("a", "head.bias", tf.tensor1d([5, 6, 7]));
    expect(values(model, "head")[1]).toEqual([5, 6, 7]);

    // A module is either adapted or saved, across adapters too.
    expect(() => lora.addAdapter("c", parseLoraConfig({ r: 1, target_modules: ["head"] }))).toThrow(
      /no adapter saves whole/,
    );
    expect(() =>
      lora.addAdapter("d", parseLoraConfig({ r: 1, target_modules: ["fc2"], modules_to_save: ["fc1"] })),
    ).toThrow(/adapted and saved/);
    lora.dispose();
    expect(names(model)).toEqual(all);
    model.dispose();
  });

  it("saves whole container modules (any dotted prefix) and counts a bias trained twice once", () => {
    const v = (n: number, shape: number[]) => tf.variable(tf.zeros(shape), false, `v${n}`);
    const modules = new Map<string, LinearModule>([
      ["encoder.up", { weight: v(1, [4, 3]), bias: v(2, [3]) }],
      ["classifier.dense", { weight: v(3, [3, 3]), bias: v(4, [3]) }],
      ["classifier.out_proj", { weight: v(5, [3, 2]), bias: v(6, [2]) }],
    ]);
    const host: LinearHost = { linearModules: () => modules };
    const lora = injectLora(host, {
      r: 1,
      target_modules: ["up"],
      modules_to_save: ["classifier"],
      bias: "all",
    });
    const exported = [...adapterToPeft(lora).tensors.keys()].filter((k) => !k.includes("lora_")).sort();
    expect(exported).toEqual([
      "base_model.model.classifier.dense.bias",
      "base_model.model.classifier.dense.weight",
      "base_model.model.classifier.out_proj.bias",
      "base_model.model.classifier.out_proj.weight",
    ]);
    const trainable = lora.trainableVariables();
    expect(new Set(trainable).size).toBe(trainable.length);
    // LoRA 4·1 + 1·3, the classifier's 9+3+6+2 copies, and encoder.up.bias (bias "all").
    expect(countParameters(lora).trainable).toBe(7 + 20 + 3);
    lora.dispose();
    for (const m of modules.values()) tf.dispose([m.weight, m.bias as tf.Variable]);
  });
});
