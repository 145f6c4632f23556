import { describe, expect, it } from "vitest";
import { encodeFromFloat32 } from "../dtypeDecode.js";
import { rankAndAlpha } from "../peft/parsePeftConfig.js";
import { readPeftAdapter } from "../peft/readPeftAdapter.js";
import { writePeftAdapter } from "../peft/writePeftAdapter.js";
import { parseSafetensors } from "../safetensors/parseSafetensors.js";
import type { Tensor } from "../safetensors/SafetensorsFile.js";
import { serializeSafetensors } from "../safetensors/serializeSafetensors.js";
import { isKohyaLora, kohyaToPeft, peftToKohya } from "./kohyaLora.js";
import { splitKohyaName } from "./kohyaNames.js";

// No real kohya file is among the fixtures: these are synthetic, built the way sd-scripts names
// its keys (`lora_unet_<diffusers path with _>.lora_down.weight`, `.lora_up.weight`, `.alpha`).
let seed = 3;
const rand = () => {
  seed = (seed * 48271) % 2147483647;
  return seed / 2147483647 - 0.5;
};
const f32 = (shape: number[]): Tensor => ({
  dtype: "F32",
  shape,
  data: new Uint8Array(new Float32Array(shape.reduce((a, b) => a * b, 1)).map(rand).buffer),
});
const alpha = (v: number): Tensor => ({ dtype: "F16", shape: [], data: encodeFromFloat32("F16", [v]) });

const UNET_Q = "down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q";
const UNET_OUT = "down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_out.0";
const UNET_CONV = "down_blocks.0.resnets.0.conv1";
const TE_Q = "text_model.encoder.layers.0.self_attn.q_proj";
function kohyaFile(): Record<string, Tensor> {
  const k = (m: string) => m.replace(/\./g, "_");
  return {
    [`lora_unet_${k(UNET_Q)}.lora_down.weight`]: f32([4, 320]),
    [`lora_unet_${k(UNET_Q)}.lora_up.weight`]: f32([320, 4]),
    [`lora_unet_${k(UNET_Q)}.alpha`]: alpha(2),
    [`lora_unet_${k(UNET_OUT)}.lora_down.weight`]: f32([4, 320]),
    [`lora_unet_${k(UNET_OUT)}.lora_up.weight`]: f32([320, 4]),
    [`lora_unet_${k(UNET_OUT)}.alpha`]: alpha(2),
    [`lora_unet_${k(UNET_CONV)}.lora_down.weight`]: f32([8, 320, 3, 3]),
    [`lora_unet_${k(UNET_CONV)}.lora_up.weight`]: f32([320, 8, 1, 1]),
    [`lora_unet_${k(UNET_CONV)}.alpha`]: alpha(1),
    [`lora_te_${k(TE_Q)}.lora_down.weight`]: f32([4, 768]),
    [`lora_te_${k(TE_Q)}.lora_up.weight`]: f32([768, 4]),
  };
}

describe("kohya <-> PEFT", () => {
  it("detects kohya keys", () => {
    expect(isKohyaLora(Object.keys(kohyaFile()))).toBe(true);
    expect(isKohyaLora(["base_model.model.x.lora_A.weight"])).toBe(false);
  });

  it("splits names with the heuristic", () => {
    expect(splitKohyaName("down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_out_0")).toBe(UNET_OUT);
    expect(splitKohyaName("text_model_encoder_layers_11_self_attn_out_proj")).toBe(
      "text_model.encoder.layers.11.self_attn.out_proj",
    );
  });

  it("converts: down=A, up=B (bytes unchanged), alpha/rank patterns, one adapter per component", () => {
    const file = kohyaFile();
    // Through real safetensors bytes, as a kohya file would arrive.
    const parsed = parseSafetensors(serializeSafetensors(file));
    const tensors = Object.fromEntries(parsed.names().map((n) => [n, parsed.getTensor(n)]));
    const { adapters, warnings } = kohyaToPeft(tensors);
    expect(Object.keys(adapters).sort()).toEqual(["te", "unet"]);
    const unet = adapters.unet!;
    expect(Object.keys(unet.modules).sort()).toEqual([UNET_CONV, UNET_Q, UNET_OUT].sort());
    expect(unet.modules[UNET_Q]?.A.data).toEqual(
      file[`lora_unet_${UNET_Q.replace(/\./g, "_")}.lora_down.weight`]?.data,
    );
    expect(unet.modules[UNET_CONV]?.B.shape).toEqual([320, 8, 1, 1]);
    expect(unet.config).toMatchObject({
      r: 4,
      lora_alpha: 2,
      rank_pattern: { [UNET_CONV]: 8 },
      alpha_pattern: { [UNET_CONV]: 1 },
    });
    expect(rankAndAlpha(UNET_CONV, unet.config)).toEqual({ r: 8, alpha: 1 });
    expect(rankAndAlpha(UNET_Q, unet.config)).toEqual({ r: 4, alpha: 2 });
    // Missing .alpha: kohya's default alpha = rank.
    expect(adapters.te?.config).toMatchObject({ r: 4, lora_alpha: 4, target_modules: [TE_Q] });
    // SD names are in the module tables: no heuristic needed.
    expect(warnings).toEqual([]);
    // The result is a valid PEFT folder.
    const again = readPeftAdapter(writePeftAdapter(unet));
    expect(Object.keys(again.adapter.modules)).toHaveLength(3);
  });

  it("uses the given module names when there are any (exact, no heuristic)", () => {
    const { adapters, warnings } = kohyaToPeft(kohyaFile(), {
      moduleNames: { lora_unet: [UNET_Q, UNET_OUT, UNET_CONV], lora_te: [TE_Q] },
    });
    expect(warnings).toEqual([]);
    expect(Object.keys(adapters.unet!.modules)).toContain(UNET_OUT);
  });

  it("round-trips kohya -> PEFT -> kohya with the same keys, bytes and alphas", () => {
    const file = kohyaFile();
    const unetOnly = Object.fromEntries(Object.entries(file).filter(([k]) => k.startsWith("lora_unet_")));
    const { adapters } = kohyaToPeft(unetOnly);
    const back = peftToKohya(adapters.unet!);
    expect(back.warnings).toEqual([]);
    expect(Object.keys(back.tensors).sort()).toEqual(Object.keys(unetOnly).sort());
    for (const [k, t] of Object.entries(unetOnly)) {
      if (k.endsWith(".alpha")) {
        const want = new DataView(encodeFromFloat32("F32", [k.includes("conv1") ? 1 : 2]).buffer).getFloat32(0, true);
        expect(new DataView(back.tensors[k]!.data.buffer).getFloat32(0, true), k).toBe(want);
      } else expect(back.tensors[k], k).toEqual(t);
    }
  });

  it("PEFT -> kohya says what it drops (embedding LoRA, modules_to_save) and folds rsLoRA into alpha", () => {
    const { adapters } = kohyaToPeft(kohyaFile());
    const te = adapters.te!;
    te.config = { ...te.config, use_rslora: true, lora_alpha: 8 };
    te.modules["text_model.embeddings.token_embedding"] = { kind: "embedding", A: f32([4, 10]), B: f32([768, 4]) };
    te.modulesToSave = { classifier: { weight: f32([2, 768]) } };
    const out = peftToKohya(te, { prefix: "lora_te" });
    expect(out.warnings).toHaveLength(2);
    expect(Object.keys(out.tensors)).toHaveLength(3);
    const a = new DataView(out.tensors[`lora_te_${TE_Q.replace(/\./g, "_")}.alpha`]!.data.buffer).getFloat32(0, true);
    // rsLoRA scale alpha/sqrt(r) = 8/2 = 4 must equal kohya's alpha'/r: alpha' = 16.
    expect(a / 4).toBeCloseTo(8 / Math.sqrt(4), 6);
  });

  it("refuses files with no kohya LoRA keys and half-present modules", () => {
    expect(() => kohyaToPeft({ "x.weight": f32([2, 2]) })).toThrow(expect.objectContaining({ code: "UnknownFormat" }));
    const half = kohyaFile();
    delete half[`lora_te_${TE_Q.replace(/\./g, "_")}.lora_up.weight`];
    expect(() => kohyaToPeft(half)).toThrow(expect.objectContaining({ code: "InvalidConfig" }));
  });
});
