import { encodeFromFloat32 } from "@lowrank/formats";
import * as tfl from "@tensorflow/tfjs-layers";
import { describe, expect, it } from "vitest";
import { matmulRef, maxAbsDiff, Rng, randomArray } from "../../test/reference.js";
import { injectLora } from "../inject/injectLora.js";
import { adapterFromPeft, adapterToPeft, baseWeightToTfLayout } from "./peftBridge.js";

function model(): tfl.LayersModel {
  const m = tfl.sequential();
  m.add(tfl.layers.dense({ units: 3, inputShape: [4], name: "q_proj", useBias: false }));
  m.add(tfl.layers.dense({ units: 2, name: "lm_head" }));
  return m;
}
const f32 = (t: { data: Uint8Array }) =>
  new Float32Array(t.data.buffer.slice(t.data.byteOffset, t.data.byteOffset + t.data.byteLength));

describe("PEFT bridge", () => {
  it("reads PEFT layouts (lora_A [r,in], lora_B [out,r]) so that delta = scale·(B·A)ᵀ", () => {
    const rng = new Rng(4);
    const r = 2;
    const Ap = randomArray(rng, r * 4); // [r, in]
    const Bp = randomArray(rng, 3 * r); // [out, r]
    const m = model();
    const lora = injectLora(m, { r: 1, target_modules: ["lm_head"] });
    const res = adapterFromPeft(
      lora,
      {
        config: { r, lora_alpha: 8, target_modules: ["q_proj"], peft_type: "LORA", some_new_key: 1 },
        tensors: {
          "base_model.model.q_proj.lora_A.weight": { dtype: "F32", shape: [r, 4], data: encodeFromFloat32("F32", Ap) },
          "base_model.model.q_proj.lora_B.weight": { dtype: "F32", shape: [3, r], data: encodeFromFloat32("F32", Bp) },
          "base_model.model.lm_head.weight": {
            dtype: "F32",
            shape: [2, 3],
            data: encodeFromFloat32("F32", new Float32Array(6)),
          },
        },
      },
      "peft",
    );
    expect(res.ignored).toEqual(["base_model.model.lm_head.weight"]);
    expect(res.config.some_new_key).toBe(1);
    const delta = lora.layers.get("q_proj")?.deltaWeight("peft").dataSync();
    const ba = matmulRef(Bp, Ap, 3, r, 4); // [out, in]
    const want = new Float64Array(12);
    for (let i = 0; i < 4; i++) for (let o = 0; o < 3; o++) want[i * 3 + o] = 4 * (ba[o * 4 + i] as number);
    expect(maxAbsDiff(delta ?? [], want)).toBeLessThan(1e-5);
    const out = adapterToPeft(lora, "peft");
    const a = out.tensors.get("base_model.model.q_proj.lora_A.weight");
    expect(a?.shape).toEqual([r, 4]);
    expect(maxAbsDiff(f32(a as { data: Uint8Array }), Ap)).toBe(0);
    expect(out.tensors.get("base_model.model.q_proj.lora_B.weight")?.shape).toEqual([3, r]);
    lora.dispose();
    m.dispose();
  });

  it("round-trips a Conv2D adapter through PEFT's [r, cin, kh, kw] layout", () => {
    const m = tfl.sequential();
    m.add(tfl.layers.conv2d({ inputShape: [4, 4, 2], filters: 3, kernelSize: [3, 2], name: "conv" }));
    const lora = injectLora(m, { r: 2, target_modules: ["conv"], init_lora_weights: false });
    const peft = adapterToPeft(lora);
    expect(peft.tensors.get("base_model.model.conv.lora_A.weight")?.shape).toEqual([2, 2, 3, 2]);
    expect(peft.tensors.get("base_model.model.conv.lora_B.weight")?.shape).toEqual([3, 2, 1, 1]);
    adapterFromPeft(lora, { config: peft.config, tensors: peft.tensors }, "copy");
    const l = lora.layers.get("conv");
    expect(
      maxAbsDiff(l?.deltaWeight("copy").dataSync() ?? [], l?.deltaWeight("default").dataSync() ?? []),
    ).toBeLessThan(1e-6);
    // PEFT's delta for conv: B[cout, r] · A.flatten(1) [r, cin·kh·kw], compared entrywise with ours [kh, kw, cin, cout]
    const A = f32(peft.tensors.get("base_model.model.conv.lora_A.weight") as { data: Uint8Array });
    const B = f32(peft.tensors.get("base_model.model.conv.lora_B.weight") as { data: Uint8Array });
    const ours = l?.deltaWeight("default").dataSync() ?? new Float32Array();
    const torch = matmulRef(B, A, 3, 2, 2 * 3 * 2); // [cout, cin*kh*kw]
    let worst = 0;
    for (let kh = 0; kh < 3; kh++)
      for (let kw = 0; kw < 2; kw++)
        for (let c = 0; c < 2; c++)
          for (let o = 0; o < 3; o++) {
            const t = torch[o * 12 + c * 6 + kh * 2 + kw] as number; // scale = lora_alpha 8 / r 2 = 4
            worst = Math.max(worst, Math.abs((ours[((kh * 2 + kw) * 2 + c) * 3 + o] as number) - 4 * t));
          }
    expect(worst).toBeLessThan(1e-5);
    lora.dispose();
    m.dispose();
  });

  it("base weights: nn.Linear [out,in] is transposed, Conv1D (fan_in_fan_out) is not", () => {
    const v = new Float32Array([1, 2, 3, 4, 5, 6]);
    expect(Array.from(baseWeightToTfLayout(v, [2, 3], false).dataSync())).toEqual([1, 4, 2, 5, 3, 6]);
    expect(Array.from(baseWeightToTfLayout(v, [2, 3], true).dataSync())).toEqual([1, 2, 3, 4, 5, 6]);
  });
});
