import { describe, expect, it } from "vitest";
import { isFormatError } from "../errors.js";
import { readPeftAdapter } from "../peft/readPeftAdapter.js";
import { serializeSafetensors } from "../safetensors/serializeSafetensors.js";
import { checkAdapterAgainstBase } from "./checkAdapterAgainstBase.js";
import { isKernelModel, kernelManifest } from "./kernelManifest.js";
import { manifestFromHeader } from "./manifestFromHeader.js";

const shape = (s: number[]) => ({ shape: s });
const SEQ2SEQ = {
  "embed_tokens.embeddings": shape([40, 8]),
  "encoder.layers.0.self_attn.q_proj.kernel": shape([8, 8]),
  "encoder.layers.0.self_attn.q_proj.bias": shape([8]),
  "encoder.layers.0.fc1.kernel": shape([8, 16]),
  "encoder.layers.0.final_layer_norm.gamma": shape([8]),
  "lm_head.kernel": shape([8, 40]),
};
const CONFIG = { model_type: "char_seq2seq", architectures: ["CharSeq2Seq"] };

describe("kernelManifest (tfjs-layers-named models other than Dense stacks)", () => {
  it("takes every <module>.kernel [in, out] as a conv1d module, and nothing else", () => {
    const m = manifestFromHeader(CONFIG, SEQ2SEQ);
    expect(m.architecture).toBe("CharSeq2Seq");
    expect(m.modelType).toBe("char_seq2seq");
    expect(Object.keys(m.modules).sort()).toEqual(
      ["encoder.layers.0.fc1", "encoder.layers.0.self_attn.q_proj", "lm_head"].sort(),
    );
    expect(m.modules["encoder.layers.0.fc1"]).toMatchObject({ shape: [8, 16], layout: "conv1d", inFeatures: 8 });
    expect(m.modules["encoder.layers.0.fc1"]?.outFeatures).toBe(16);
    // The same kernels in another order give the same digest; another shape another digest.
    const reversed = Object.fromEntries(Object.entries(SEQ2SEQ).reverse());
    expect(manifestFromHeader(CONFIG, reversed).digest).toBe(m.digest);
    const wider = { ...SEQ2SEQ, "lm_head.kernel": shape([8, 41]) };
    expect(manifestFromHeader(CONFIG, wider).digest).not.toBe(m.digest);
    // Without `architectures` the model type names the class.
    expect(kernelManifest({ model_type: "char_seq2seq" }, new Map([["a.kernel", [2, 3]]])).architecture).toBe(
      "char_seq2seq",
    );
  });

  it("applies only to a model_type other than dense, with kernels and no .weight tensor", () => {
    expect(isKernelModel(CONFIG, Object.keys(SEQ2SEQ))).toBe(true);
    expect(isKernelModel({}, Object.keys(SEQ2SEQ))).toBe(false);
    expect(isKernelModel({ model_type: "dense" }, Object.keys(SEQ2SEQ))).toBe(false);
    expect(isKernelModel({ model_type: "gpt2" }, Object.keys(SEQ2SEQ))).toBe(false);
    expect(isKernelModel(CONFIG, [...Object.keys(SEQ2SEQ), "x.weight"])).toBe(false);
    expect(isKernelModel(CONFIG, ["embed_tokens.embeddings"])).toBe(false);
  });

  it("refuses a kernel that is not 2-D with ShapeMismatch", () => {
    let caught: unknown;
    try {
      kernelManifest(CONFIG, new Map([["conv.kernel", [3, 3, 4]]]));
    } catch (e) {
      caught = e;
    }
    expect(isFormatError(caught) && caught.code).toBe("ShapeMismatch");
  });
});

describe("an all-linear adapter against a kernel model", () => {
  const adapter = (target: unknown) => {
    const f32 = (shape: [number, number]) => ({
      dtype: "F32" as const,
      shape,
      data: new Float32Array(shape[0] * shape[1]),
    });
    const weights = serializeSafetensors({
      "base_model.model.encoder.layers.0.fc1.lora_A.weight": f32([2, 8]),
      "base_model.model.encoder.layers.0.fc1.lora_B.weight": f32([16, 2]),
    });
    const config = JSON.stringify({ peft_type: "LORA", r: 2, lora_alpha: 4, target_modules: target });
    return readPeftAdapter({
      "adapter_config.json": new TextEncoder().encode(config),
      "adapter_model.safetensors": weights,
    }).adapter;
  };

  it('counts "all-linear" as PEFT does (every linear module but the output head), not as a pattern over names', () => {
    const manifest = manifestFromHeader(CONFIG, SEQ2SEQ);
    const check = checkAdapterAgainstBase(adapter("all-linear"), manifest);
    expect(check.ok).toBe(true);
    expect(check.matched).toEqual({ "encoder.layers.0.fc1": "encoder.layers.0.fc1" });
    // A pattern that names no module of the base is still refused.
    let caught: unknown;
    try {
      checkAdapterAgainstBase(adapter(["c_attn"]), manifest);
    } catch (e) {
      caught = e;
    }
    expect(isFormatError(caught) && caught.code).toBe("NoMatchingModules");
  });
});
