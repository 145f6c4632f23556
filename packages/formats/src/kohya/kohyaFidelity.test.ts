// kohya fidelity (issue 10, item 19): SDXL / SD 1.x / 2.x module names from the module tables, alpha 0
// read as sd-scripts reads it, and sd-scripts metadata kept through kohya -> PEFT -> kohya. The names
// and metadata keys are the ones sd-scripts writes (networks/lora.py, sdxl_original_unet.py).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { encodeFromFloat32 } from "../dtypeDecode.js";
import { loraScale } from "../peft/parsePeftConfig.js";
import { readPeftAdapter } from "../peft/readPeftAdapter.js";
import { writePeftAdapter } from "../peft/writePeftAdapter.js";
import { parseSafetensors } from "../safetensors/parseSafetensors.js";
import type { Tensor } from "../safetensors/SafetensorsFile.js";
import { serializeSafetensors } from "../safetensors/serializeSafetensors.js";
import { kohyaToPeft, peftToKohya } from "./kohyaLora.js";
import { knownKohyaModule } from "./kohyaModuleTables.js";

const f32 = (shape: number[], k = 1): Tensor => ({
  dtype: "F32",
  shape,
  data: new Uint8Array(new Float32Array(shape.reduce((a, b) => a * b, 1)).map((_, i) => (i + k) / 64).buffer),
});
const alpha = (v: number): Tensor => ({ dtype: "F16", shape: [], data: encodeFromFloat32("F16", [v]) });
const flat = (m: string) => m.replace(/\./g, "_");

/** A kohya file laid out as sd-scripts writes an SDXL LoRA: sgm UNet names, two CLIP text encoders. */
const SDXL: Record<string, string[]> = {
  lora_unet: [
    "input_blocks.4.1.transformer_blocks.0.attn1.to_q",
    "input_blocks.4.1.transformer_blocks.1.attn2.to_out.0",
    "input_blocks.4.1.proj_in",
    "middle_block.1.transformer_blocks.9.ff.net.0.proj",
    "middle_block.1.transformer_blocks.0.ff.net.2",
    "output_blocks.2.1.proj_out",
    "input_blocks.1.0.in_layers.2",
    "input_blocks.4.0.emb_layers.1",
    "input_blocks.4.0.skip_connection",
    "output_blocks.8.0.out_layers.3",
    "input_blocks.3.0.op",
    "output_blocks.2.2.conv",
  ],
  lora_te1: ["text_model.encoder.layers.11.self_attn.out_proj", "text_model.encoder.layers.0.mlp.fc1"],
  lora_te2: ["text_model.encoder.layers.31.self_attn.k_proj"],
};
const SD_METADATA = {
  ss_network_module: "networks.lora",
  ss_network_dim: "4",
  ss_network_alpha: "2.0",
  ss_base_model_version: "sdxl_base_v1-0",
  ss_tag_frequency: '{"1_sks dog": {"sks": 12, "dog": 12}}',
  "modelspec.architecture": "stable-diffusion-xl-v1-base/lora",
  "modelspec.title": "my lora",
  sshs_model_hash: "0f3c",
  sshs_legacy_hash: "a1b2c3d4",
};

function sdxlFile(alphaValue: number | null = 2): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  let k = 0;
  for (const [prefix, modules] of Object.entries(SDXL)) {
    for (const m of modules) {
      const conv = m.endsWith("in_layers.2") || m.endsWith(".op") || m.endsWith(".conv") || m.endsWith("out_layers.3");
      out[`${prefix}_${flat(m)}.lora_down.weight`] = f32(conv ? [4, 8, 3, 3] : [4, 8], k++);
      out[`${prefix}_${flat(m)}.lora_up.weight`] = f32(conv ? [8, 4, 1, 1] : [8, 4], k++);
      if (alphaValue !== null) out[`${prefix}_${flat(m)}.alpha`] = alpha(alphaValue);
    }
  }
  return out;
}

describe("kohya module names from the SD 1.x / 2.x / SDXL tables", () => {
  it("SDXL names (input_blocks_4_1_..., middle_block_1_..., ResBlock and sampler convs) come back exactly, with no warning", () => {
    const { adapters, warnings } = kohyaToPeft(sdxlFile());
    expect(warnings).toEqual([]);
    expect(Object.keys(adapters).sort()).toEqual(["te1", "te2", "unet"]);
    expect(Object.keys(adapters.unet!.modules).sort()).toEqual([...SDXL.lora_unet!].sort());
    expect(Object.keys(adapters.te1!.modules).sort()).toEqual([...SDXL.lora_te1!].sort());
    expect(Object.keys(adapters.te2!.modules)).toEqual(SDXL.lora_te2);
    // and back to the same keys
    const back = {
      ...peftToKohya(adapters.unet!).tensors,
      ...peftToKohya(adapters.te1!, { prefix: "lora_te1" }).tensors,
    };
    for (const key of Object.keys(sdxlFile()).filter((k) => !k.startsWith("lora_te2")))
      expect(back).toHaveProperty([key]);
  });

  it("every table name maps back from its kohya form (SD 1.x/2.x diffusers and SDXL sgm paths)", () => {
    const index = (n: number) => fc.integer({ min: 0, max: n });
    const attn = fc
      .tuple(index(9), fc.constantFrom("attn1", "attn2"), fc.constantFrom("to_q", "to_k", "to_v", "to_out.0"))
      .map(([t, a, m]) => `transformer_blocks.${t}.${a}.${m}`);
    const inTransformer = fc.oneof(attn, fc.constantFrom("proj_in", "proj_out", "transformer_blocks.0.ff.net.0.proj"));
    const unet = fc.oneof(
      fc
        .tuple(fc.constantFrom("down_blocks", "up_blocks"), index(3), index(2), inTransformer)
        .map(([b, i, j, s]) => `${b}.${i}.attentions.${j}.${s}`),
      fc
        .tuple(
          fc.constantFrom("down_blocks", "up_blocks"),
          index(3),
          index(2),
          fc.constantFrom("conv1", "conv2", "time_emb_proj", "conv_shortcut"),
        )
        .map(([b, i, j, s]) => `${b}.${i}.resnets.${j}.${s}`),
      inTransformer.map((s) => `mid_block.attentions.0.${s}`),
      fc
        .tuple(fc.constantFrom("input_blocks", "output_blocks"), index(11), inTransformer)
        .map(([b, i, s]) => `${b}.${i}.1.${s}`),
      fc
        .tuple(
          fc.constantFrom("input_blocks", "output_blocks"),
          index(11),
          fc.constantFrom("in_layers.2", "emb_layers.1", "out_layers.3", "skip_connection"),
        )
        .map(([b, i, s]) => `${b}.${i}.0.${s}`),
      inTransformer.map((s) => `middle_block.1.${s}`),
    );
    fc.assert(fc.property(unet, (m) => knownKohyaModule("lora_unet", flat(m)) === m));
    const te = fc
      .tuple(index(31), fc.constantFrom("self_attn.q_proj", "self_attn.out_proj", "mlp.fc1", "mlp.fc2"))
      .map(([l, s]) => `text_model.encoder.layers.${l}.${s}`);
    fc.assert(
      fc.property(te, fc.constantFrom("lora_te", "lora_te1", "lora_te2"), (m, p) => knownKohyaModule(p, flat(m)) === m),
    );
  });

  it("names in no table still fall back to the heuristic, with a warning", () => {
    const { adapters, warnings } = kohyaToPeft({
      "lora_transformer_single_transformer_blocks_0_attn_to_q.lora_down.weight": f32([2, 4]),
      "lora_transformer_single_transformer_blocks_0_attn_to_q.lora_up.weight": f32([4, 2]),
    });
    expect(Object.keys(adapters.transformer!.modules)).toEqual(["single_transformer_blocks.0.attn.to_q"]);
    expect(warnings.join("\n")).toMatch(/heuristic/);
  });
});

describe("kohya alpha as sd-scripts reads it", () => {
  it(".alpha = 0 means alpha = rank (scale 1), like a missing .alpha, not scale 0", () => {
    for (const a of [0, null]) {
      const { adapters } = kohyaToPeft(sdxlFile(a));
      const unet = adapters.unet!;
      for (const m of Object.keys(unet.modules)) expect(loraScale(m, unet.config), `${a} ${m}`).toBe(1);
    }
  });

  it("PEFT alpha 0 (scale 0) is not written as kohya alpha 0: lora_up zeros, alpha = rank, a warning", () => {
    const { adapters } = kohyaToPeft(sdxlFile());
    const te = adapters.te1!;
    te.config = { ...te.config, lora_alpha: 0 };
    const out = peftToKohya(te, { prefix: "lora_te1" });
    expect(out.warnings.join("\n")).toMatch(/alpha 0/);
    const key = `lora_te1_${flat(SDXL.lora_te1![0]!)}`;
    expect(new DataView(out.tensors[`${key}.alpha`]!.data.buffer).getFloat32(0, true)).toBe(4);
    expect(out.tensors[`${key}.lora_up.weight`]!.data.every((b) => b === 0)).toBe(true);
  });
});

describe("sd-scripts metadata through kohya -> PEFT -> kohya", () => {
  it("ss_*, modelspec.* and sshs_* stay in the PEFT file's metadata and come back unchanged", () => {
    const bytes = serializeSafetensors(sdxlFile(), SD_METADATA);
    const file = parseSafetensors(bytes);
    const tensors = Object.fromEntries(file.names().map((n) => [n, file.getTensor(n)]));
    const { adapters } = kohyaToPeft(tensors, { metadata: file.metadata });
    const unet = adapters.unet!;
    expect(unet.metadata).toEqual({ format: "pt", ...SD_METADATA });
    // through a PEFT folder's bytes
    const peft = readPeftAdapter(writePeftAdapter(unet)).adapter;
    expect(peft.metadata).toMatchObject(SD_METADATA);
    expect(peftToKohya(peft).metadata).toEqual(SD_METADATA);
  });
});

describe("kohya -> PEFT -> kohya, byte for byte", () => {
  it("an F16 file laid out as sd-scripts saves it (alpha F16 shape [], sd-scripts metadata) comes back identical", () => {
    const half = (t: Tensor): Tensor => ({
      dtype: "F16",
      shape: t.shape,
      data: encodeFromFloat32("F16", new Float32Array(t.data.slice().buffer)),
    });
    const unet = Object.fromEntries(
      Object.entries(sdxlFile())
        .filter(([k]) => k.startsWith("lora_unet_"))
        .map(([k, t]) => [k, k.endsWith(".alpha") ? t : half(t)]),
    );
    const original = serializeSafetensors(unet, SD_METADATA);
    const file = parseSafetensors(original);
    const { adapters } = kohyaToPeft(Object.fromEntries(file.names().map((n) => [n, file.getTensor(n)])), {
      metadata: file.metadata,
    });
    const peft = readPeftAdapter(writePeftAdapter(adapters.unet!)).adapter;
    const back = peftToKohya(peft);
    expect(back.warnings).toEqual([]);
    expect(Buffer.compare(Buffer.from(serializeSafetensors(back.tensors, back.metadata)), Buffer.from(original))).toBe(
      0,
    );
  });
});
