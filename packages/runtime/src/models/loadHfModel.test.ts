import { readFile } from "node:fs/promises";
import {
  encodeFromFloat32,
  parseSafetensors,
  serializeSafetensors,
  type TensorInput,
  toFloat32,
} from "@lowrank/formats";
import { fixturePath } from "@lowrank/vitest-config/fixtures";
import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import { hfModelFromBytes, loadHfModel } from "./loadHfModel.js";
import { mismatches, readGolden } from "./testing.js";

const g = readGolden<{ input_ids: number[][]; base: number[][] }>("gpt2-tiny");

async function fixture(name: string) {
  const config = JSON.parse(await readFile(fixturePath(name, "config.json"), "utf8")) as Record<string, unknown>;
  const file = parseSafetensors(new Uint8Array(await readFile(fixturePath(name, "model.safetensors"))));
  return { config, file };
}

function rewrite(
  file: ReturnType<typeof parseSafetensors>,
  edit: (name: string, t: TensorInput) => TensorInput | undefined,
): Uint8Array {
  const out = new Map<string, TensorInput>();
  for (const name of file.names()) {
    const t = edit(name, file.getTensor(name));
    if (t) out.set(name, t);
  }
  return serializeSafetensors(out);
}

describe("loading Hugging Face folders", () => {
  for (const [dtype, rtol] of [
    ["F16", 3e-3],
    ["BF16", 2e-2],
  ] as const) {
    it(`decodes ${dtype} checkpoints (forward within ${dtype} rounding of the F32 golden)`, async () => {
      const { config, file } = await fixture("hf-gpt2-tiny");
      const bytes = rewrite(file, (_, t) => ({
        dtype,
        shape: t.shape,
        data: encodeFromFloat32(dtype, toFloat32(t as never)),
      }));
      const model = hfModelFromBytes(config, bytes);
      const out = tf.tidy(() => model.forward(tf.tensor2d(g.input_ids, undefined, "int32")));
      const data = out.dataSync();
      out.dispose();
      expect(mismatches(data, g.base.flat(), rtol, rtol)).toEqual([]);
      model.dispose();
    });
  }

  it("says which tensor is missing or misshapen, and frees what it loaded", async () => {
    const { config, file } = await fixture("hf-gpt2-tiny");
    const before = tf.memory().numTensors;
    const missing = rewrite(file, (n, t) => (n === "h.0.mlp.c_fc.weight" ? undefined : t));
    expect(() => hfModelFromBytes(config, missing)).toThrow(/expected a tensor 'h.0.mlp.c_fc.weight'/);
    const wrong = rewrite(file, (n, t) =>
      n === "h.0.attn.c_proj.weight" ? { dtype: "F32", shape: [1, 4], data: new Float32Array(4) } : t,
    );
    expect(() => hfModelFromBytes(config, wrong)).toThrow(
      /expected 'h.0.attn.c_proj.weight' of shape \[2,2\], found \[1,4\]/,
    );
    expect(tf.memory().numTensors).toBe(before);
    const raw = new Uint8Array(await readFile(fixturePath("hf-gpt2-tiny", "model.safetensors")));
    expect(() => hfModelFromBytes({ ...config, model_type: "llama" }, raw)).toThrow(
      /expected model_type 'gpt2' or 'bert', found "llama"/,
    );
    await expect(loadHfModel(fixturePath("peft-gpt2-tigrinya-lora"))).rejects.toMatchObject({ code: "NotFound" });
  });

  it("loads a headless checkpoint into GPT2LMHeadModel names when config says so", async () => {
    const { config, file } = await fixture("hf-gpt2-tiny");
    const bytes = rewrite(file, (_, t) => t);
    const model = hfModelFromBytes({ ...config, architectures: ["GPT2LMHeadModel"] }, bytes);
    expect(model.linearModules.has("transformer.h.0.attn.c_attn")).toBe(true);
    expect(model.kind).toBe("causal-lm");
    const logits = tf.tidy(() => model.forward(tf.tensor2d([[1, 2, 3]], undefined, "int32")));
    expect(logits.shape).toEqual([1, 3, 21]);
    logits.dispose();
    model.dispose();
  });
});
