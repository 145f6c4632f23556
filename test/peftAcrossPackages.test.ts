// One PEFT folder, three readers: @lowrank/formats (bytes), @lowrank/core (LoRA layers) and
// @lowrank/runtime (the serving engine's loader) must agree on every module's rank, alpha, scale and
// factor values. The folder fits the tiny GPT-2 fixture and uses what tends to drift: overlapping
// rank_pattern / alpha_pattern keys (PEFT's get_pattern_key: first key in file order wins) and keys with
// the adapter name in them (`lora_A.default.weight`), as a live PEFT model's state dict names them.
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { runCli } from "@lowrank/cli";
import { adapterFromPeft, injectLora } from "@lowrank/core";
import {
  adapterDigest,
  loraScale,
  parseSafetensors,
  rankAndAlpha,
  serializeSafetensors,
  toFloat32,
  writePeftAdapter,
} from "@lowrank/formats";
import { readPeftFolder } from "@lowrank/formats/node";
import { loadHfModel, peftAdapterFromBytes } from "@lowrank/runtime";
import { fixturePath } from "@lowrank/vitest-config/fixtures";
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, describe, expect, it } from "vitest";
import { captureIO } from "../packages/cli/src/testing.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const dir = path.join(root, "test", ".tmp", "peft-across-packages");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// hf-gpt2-lmhead-tiny: n_embd 2, n_inner 4·2, one block; Conv1D modules [in, out].
const MODULES: Record<string, { fin: number; fout: number; r: number; key: "plain" | "named" }> = {
  "transformer.h.0.attn.c_attn": { fin: 2, fout: 6, r: 3, key: "plain" },
  "transformer.h.0.attn.c_proj": { fin: 2, fout: 2, r: 2, key: "named" },
  "transformer.h.0.mlp.c_fc": { fin: 2, fout: 8, r: 2, key: "plain" },
  "transformer.h.0.mlp.c_proj": { fin: 8, fout: 2, r: 2, key: "named" },
};
// What PEFT gives each module (worked out by hand from get_pattern_key): alpha and scale = alpha / r.
const EXPECTED: Record<string, { r: number; alpha: number }> = {
  "transformer.h.0.attn.c_attn": { r: 3, alpha: 6 }, // "c_attn" comes before the full name in both patterns
  "transformer.h.0.attn.c_proj": { r: 2, alpha: 4 },
  "transformer.h.0.mlp.c_fc": { r: 2, alpha: 5 },
  "transformer.h.0.mlp.c_proj": { r: 2, alpha: 4 },
};
const CONFIG = `{
  "alpha_pattern": {
    "c_attn": 6,
    "mlp\\\\.c_fc": 5,
    "transformer.h.0.attn.c_attn": 1
  },
  "fan_in_fan_out": true,
  "lora_alpha": 4,
  "lora_dropout": 0.0,
  "peft_type": "LORA",
  "r": 2,
  "rank_pattern": {
    "c_attn": 3,
    "transformer.h.0.attn.c_attn": 1
  },
  "target_modules": [
    "c_attn",
    "c_proj",
    "c_fc"
  ],
  "task_type": "CAUSAL_LM"
}`;

function values(n: number, seed: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.sin(seed * 7.1 + i * 1.3) * 0.5);
}

function writeAdapter(): { config: Uint8Array; weights: Uint8Array } {
  const tensors: Record<string, { dtype: "F32"; shape: number[]; data: Uint8Array }> = {};
  let seed = 1;
  for (const [m, { fin, fout, r, key }] of Object.entries(MODULES)) {
    const name = (f: "lora_A" | "lora_B") => `base_model.model.${m}.${f}${key === "named" ? ".default" : ""}.weight`;
    const a = values(r * fin, seed++);
    const b = values(fout * r, seed++);
    tensors[name("lora_A")] = { dtype: "F32", shape: [r, fin], data: new Uint8Array(a.buffer) };
    tensors[name("lora_B")] = { dtype: "F32", shape: [fout, r], data: new Uint8Array(b.buffer) };
  }
  const config = new TextEncoder().encode(CONFIG);
  const weights = serializeSafetensors(tensors, { format: "pt" });
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, "adapter_config.json"), config);
  writeFileSync(path.join(dir, "adapter_model.safetensors"), weights);
  return { config, weights };
}

interface Reading {
  r: number;
  alpha?: number;
  scale: number;
  /** PEFT layouts: A [r, in], B [out, r]. */
  A: number[];
  B: number[];
}

describe("a PEFT folder reads the same through formats, core and runtime", () => {
  it("same ranks, alphas, scales and factor values per module", async () => {
    const files = writeAdapter();

    // @lowrank/formats
    const { adapter, warnings } = await readPeftFolder(dir);
    expect(warnings).toEqual([]);
    const viaFormats = new Map<string, Reading>();
    for (const [m, w] of Object.entries(adapter.modules)) {
      const { r, alpha } = rankAndAlpha(m, adapter.config);
      viaFormats.set(m, {
        r,
        alpha,
        scale: loraScale(m, adapter.config),
        A: [...toFloat32(w.A)],
        B: [...toFloat32(w.B)],
      });
    }

    // @lowrank/core: the adapter loaded into LoRA layers over the real tiny GPT-2
    const model = await loadHfModel(fixturePath("hf-gpt2-lmhead-tiny"));
    const before = tf.memory().numTensors;
    const lora = injectLora(model.asLinearHost(), { r: 1, target_modules: ["c_attn", "c_proj", "c_fc"] });
    const st = parseSafetensors(files.weights);
    const tensors = Object.fromEntries(st.names().map((n) => [n, st.getTensor(n)]));
    const loaded = adapterFromPeft(lora, { config: JSON.parse(CONFIG), tensors }, "peft");
    expect(loaded.ignored).toEqual([]);
    const viaCore = new Map<string, Reading>();
    for (const m of Object.keys(MODULES)) {
      const a = lora.layerFor(m).getAdapter("peft");
      viaCore.set(m, {
        r: a.r,
        alpha: a.alpha,
        scale: a.scaling,
        A: [...(tf.transpose(a.A).dataSync() as Float32Array)], // core holds A [in, r]
        B: [...(tf.transpose(a.B).dataSync() as Float32Array)], // and B [r, out]
      });
    }
    lora.dispose();
    model.dispose();
    expect(tf.memory().numTensors).toBeLessThan(before);

    // @lowrank/runtime: the engine's PEFT loader
    const weights = peftAdapterFromBytes("cross", files.config, files.weights);
    const viaRuntime = new Map<string, Reading>();
    for (const [m, w] of weights.modules) {
      viaRuntime.set(m, { r: w.a.shape[0], scale: w.scaling, A: [...w.a.dataSync()], B: [...w.b.dataSync()] });
      tf.dispose([w.a, w.b]);
    }

    for (const via of [viaFormats, viaCore, viaRuntime])
      expect([...via.keys()].sort()).toEqual(Object.keys(MODULES).sort());
    for (const [m, { r, alpha }] of Object.entries(EXPECTED)) {
      const f = viaFormats.get(m) as Reading;
      expect(f, m).toMatchObject({ r, alpha, scale: alpha / r });
      expect(viaCore.get(m), m).toEqual(f);
      expect(viaRuntime.get(m), m).toEqual({ ...f, alpha: undefined });
    }
  });

  it("one adapter digest: the runtime's, `lowrank inspect`'s, and that of the folder formats writes back", async () => {
    const files = writeAdapter();
    const { adapter } = await readPeftFolder(dir);
    const written = writePeftAdapter(adapter);
    expect(new TextDecoder().decode(written["adapter_config.json"])).toBe(CONFIG);
    const digest = adapterDigest(written);
    const weights = peftAdapterFromBytes("digest", files.config, files.weights);
    for (const w of weights.modules.values()) tf.dispose([w.a, w.b]);
    expect(weights.digest).toBe(digest);
    const io = captureIO();
    expect(await runCli(["inspect", dir, "--json"], io)).toBe(0);
    expect((JSON.parse(io.out()) as { digest: string }).digest).toBe(digest);
  });
});
