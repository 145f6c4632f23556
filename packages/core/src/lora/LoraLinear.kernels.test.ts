import "@tensorflow/tfjs-backend-cpu";
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addRef, addRowRef, matmulRef, maxAbsDiff, Rng, randomArray } from "../../test/reference.js";
import { LORA_BGMV, LORA_LINEAR } from "../kernels/names.js";
import { BASE_ADAPTER, LoraLinear } from "./LoraLinear.js";

// The layer runs core's LoRA ops: on cpu (a backend with registered LoRA kernels) its forward passes
// execute the LoraLinear and LoraBgmv kernels themselves, and the results match plain-loop references.

async function kernelsRun(f: () => tf.Tensor): Promise<{ names: string[]; values: Float32Array }> {
  let values: Float32Array = new Float32Array();
  const info = await tf.profile(() => {
    const y = f();
    values = y.dataSync() as Float32Array;
    y.dispose();
  });
  return { names: info.kernelNames, values };
}

describe("LoraLinear on cpu runs core's registered LoRA kernels", () => {
  let previous: string;
  beforeAll(async () => {
    previous = tf.getBackend();
    await tf.setBackend("cpu");
  });
  afterAll(async () => {
    await tf.setBackend(previous);
  });

  const [n, k, m] = [5, 7, 4];
  const rng = new Rng(3);
  const x = randomArray(rng, n * k);
  const W = randomArray(rng, k * m);
  const b = randomArray(rng, m);
  const adapters = [2, 3].map((r) => ({ A: randomArray(rng, k * r), B: randomArray(rng, r * m), r }));

  function layerWith(): LoraLinear {
    const layer = new LoraLinear({ weight: tf.tensor2d(W, [k, m]), bias: tf.tensor1d(b) });
    adapters.forEach((a, i) => {
      layer.addAdapter(`a${i}`, { A: tf.tensor2d(a.A, [k, a.r]), B: tf.tensor2d(a.B, [a.r, m]), alpha: 2 * a.r });
    });
    return layer;
  }

  it("forward runs the fused LoraLinear kernel and equals x·W + b + Σ 2·x·A·B", async () => {
    const layer = layerWith();
    layer.setActiveAdapters(["a0", "a1"]);
    const xt = tf.tensor2d(x, [n, k]);
    const { names, values } = await kernelsRun(() => layer.forward(xt));
    expect(names).toContain(LORA_LINEAR);
    let want = addRowRef(matmulRef(x, W, n, k, m), b, n, m);
    for (const a of adapters) want = addRef(want, matmulRef(matmulRef(x, a.A, n, k, a.r), a.B, n, a.r, m), 2);
    expect(maxAbsDiff(values, want)).toBeLessThan(1e-4);
    xt.dispose();
    layer.dispose();
  });

  it("forwardMixed runs the LoraBgmv kernel and gives each row its own adapter", async () => {
    const layer = layerWith();
    const xt = tf.tensor2d(x, [n, k]);
    const per = ["a1", BASE_ADAPTER, "a0", "a1", BASE_ADAPTER];
    const { names, values } = await kernelsRun(() => layer.forwardMixed(xt, per));
    expect(names).toContain(LORA_BGMV);
    const base = addRowRef(matmulRef(x, W, n, k, m), b, n, m);
    per.forEach((name, i) => {
      const row = x.subarray(i * k, (i + 1) * k);
      let want = base.subarray(i * m, (i + 1) * m);
      const a = name === BASE_ADAPTER ? undefined : adapters[Number(name.slice(1))];
      if (a) want = addRef(want, matmulRef(matmulRef(row, a.A, 1, k, a.r), a.B, 1, a.r, m), 2);
      expect(maxAbsDiff(values.subarray(i * m, (i + 1) * m), want)).toBeLessThan(1e-4);
    });
    xt.dispose();
    layer.dispose();
  });
});
