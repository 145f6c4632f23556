// Property-based tests of the converters that read other tools' adapters (kohya LoRA, GGUF LoRA): random
// and mutated inputs give a converted adapter or a FormatError, never another exception or a hang.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Dtype } from "../dtype.js";
import { parseGguf } from "../gguf/GgufFile.js";
import { ggufLoraToPeft, peftToGgufLora } from "../gguf/ggufLora.js";
import type { PeftAdapter } from "../peft/PeftAdapter.js";
import { parsePeftConfig } from "../peft/parsePeftConfig.js";
import { parseSafetensors } from "../safetensors/parseSafetensors.js";
import type { Tensor } from "../safetensors/SafetensorsFile.js";
import { serializeSafetensors } from "../safetensors/serializeSafetensors.js";
import { formatOutcome as outcome } from "../testing.js";
import { kohyaToPeft, peftToKohya } from "./kohyaLora.js";

const SIZE: Partial<Record<Dtype, number>> = { F32: 4, F16: 2, BF16: 2, I64: 8, U8: 1 };

const tensor = fc
  .record({
    dtype: fc.constantFrom<Dtype>("F32", "F16", "BF16", "I64", "U8"),
    shape: fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 4 }),
    fill: fc.integer({ min: 0, max: 255 }),
  })
  .map(({ dtype, shape, fill }): Tensor => {
    const n = shape.reduce((a, b) => a * b, 1) * (SIZE[dtype] as number);
    return { dtype, shape, data: new Uint8Array(n).fill(fill) };
  });

const kohyaKey = fc.oneof(
  fc.string(),
  fc
    .tuple(
      fc.constantFrom("lora_unet", "lora_te", "lora_te1", "lora_te2", "lora_transformer", "lora", "unet"),
      fc.constantFrom("down_blocks_0_attentions_0_proj_in", "mid_block_resnets_0_conv1", "a", "", "__proto__"),
      fc.constantFrom(".lora_down.weight", ".lora_up.weight", ".alpha", ".dora_scale", ".hada_w1_a", ""),
    )
    .map(([p, m, s]) => `${p}_${m}${s}`),
);

describe("kohya converter properties", () => {
  it("random kohya-like tensors (read back from safetensors bytes) give PEFT adapters or a FormatError", () => {
    fc.assert(
      fc.property(fc.dictionary(kohyaKey, tensor, { maxKeys: 6 }), (tensors) => {
        const file = parseSafetensors(serializeSafetensors(tensors));
        const read = Object.fromEntries(file.names().map((n) => [n, file.getTensor(n)]));
        let adapters: Record<string, PeftAdapter> = {};
        const c = outcome(() => {
          adapters = kohyaToPeft(read).adapters;
        });
        if (c !== "ok") return;
        // What was accepted converts back, or says why not.
        for (const adapter of Object.values(adapters)) outcome(() => peftToKohya(adapter));
      }),
      { numRuns: 400 },
    );
  });

  it("modules with random (often inconsistent) down/up/alpha shapes and dtypes convert or give a FormatError", () => {
    const dims = fc.integer({ min: 1, max: 5 });
    const part = fc.record({
      prefix: fc.constantFrom("lora_unet", "lora_te", "lora_te2"),
      module: fc.constantFrom("down_blocks_0_attentions_0_proj_in", "text_model_encoder_layers_0_mlp_fc1", "x"),
      r: dims,
      rUp: fc.option(dims, { nil: undefined }),
      nIn: dims,
      nOut: dims,
      conv: fc.boolean(),
      alpha: fc.option(fc.oneof(fc.double({ noNaN: false }), fc.constant(0)), { nil: undefined }),
      alphaShape: fc.constantFrom<number[]>([], [1], [2]),
      drop: fc.constantFrom("none", "down", "up"),
      dtype: fc.constantFrom<Dtype>("F32", "F16", "BF16", "I64"),
    });
    const seen = new Set<string>();
    fc.assert(
      fc.property(fc.array(part, { minLength: 1, maxLength: 3 }), (parts) => {
        const tensors: Record<string, Tensor> = {};
        const make = (dtype: Dtype, shape: number[]): Tensor => ({
          dtype,
          shape,
          data: new Uint8Array(shape.reduce((a, b) => a * b, 1) * (SIZE[dtype] as number)).fill(60),
        });
        for (const p of parts) {
          const key = `${p.prefix}_${p.module}`;
          const tail = p.conv ? [3, 3] : [];
          if (p.drop !== "down") tensors[`${key}.lora_down.weight`] = make(p.dtype, [p.r, p.nIn, ...tail]);
          if (p.drop !== "up") tensors[`${key}.lora_up.weight`] = make(p.dtype, [p.nOut, p.rUp ?? p.r, ...tail]);
          if (p.alpha !== undefined) {
            const t = make("F32", p.alphaShape);
            new DataView(t.data.buffer).setFloat32(0, p.alpha, true);
            if (t.data.length >= 4) tensors[`${key}.alpha`] = t;
          }
        }
        const file = parseSafetensors(serializeSafetensors(tensors));
        const read = Object.fromEntries(file.names().map((n) => [n, file.getTensor(n)]));
        let adapters: Record<string, PeftAdapter> = {};
        const c = outcome(() => {
          adapters = kohyaToPeft(read).adapters;
        });
        seen.add(c);
        for (const adapter of Object.values(adapters)) outcome(() => peftToKohya(adapter));
      }),
      {
        numRuns: 400,
        // A consistent module runs first, so the accepting path is exercised every run (random parts
        // are consistent in about 2% of runs).
        examples: [
          [
            [
              {
                prefix: "lora_unet" as const,
                module: "x" as const,
                r: 2,
                rUp: undefined,
                nIn: 3,
                nOut: 4,
                conv: false,
                alpha: 1,
                alphaShape: [],
                drop: "none" as const,
                dtype: "F32" as const,
              },
            ],
          ],
        ],
      },
    );
    // Both outcomes happen: the generator reaches the converter's accepting path and its refusals.
    expect(seen.has("ok")).toBe(true);
    expect(seen.size).toBeGreaterThan(1);
  });
});

function f32(shape: [number, number], seed: number): Tensor {
  const v = new Float32Array(shape[0] * shape[1]).map((_, i) => Math.sin(seed * 131 + i));
  return { dtype: "F32", shape, data: new Uint8Array(v.buffer) };
}

/** A small valid GGUF LoRA (llama q/v/down projections, 2 layers), written by our own converter. */
function ggufLoraBytes(): Uint8Array {
  const modules: PeftAdapter["modules"] = {};
  for (let l = 0; l < 2; l++) {
    modules[`model.layers.${l}.self_attn.q_proj`] = { kind: "lora", A: f32([2, 8], l), B: f32([8, 2], l + 10) };
    modules[`model.layers.${l}.self_attn.v_proj`] = { kind: "lora", A: f32([2, 8], l + 20), B: f32([4, 2], l + 30) };
    modules[`model.layers.${l}.mlp.down_proj`] = { kind: "lora", A: f32([2, 12], l + 40), B: f32([8, 2], l + 50) };
  }
  const adapter: PeftAdapter = {
    // PEFT's defaults for everything not given, as a real adapter_config.json would read.
    config: parsePeftConfig({
      peft_type: "LORA",
      r: 2,
      lora_alpha: 4,
      target_modules: ["q_proj", "v_proj", "down_proj"],
      base_model_name_or_path: "tiny-llama",
      task_type: "CAUSAL_LM",
    }).config,
    modules,
    modulesToSave: {},
    otherTensors: {},
    metadata: { format: "pt" },
    modelCard: null,
  };
  return peftToGgufLora(adapter, { headCount: 2, headCountKv: 1 }).bytes;
}

describe("GGUF LoRA converter properties", () => {
  const valid = ggufLoraBytes();

  it("the unmutated file converts back to PEFT", () => {
    const { adapter } = ggufLoraToPeft(parseGguf(valid), { headCount: 2, headCountKv: 1 });
    expect(Object.keys(adapter.modules)).toHaveLength(6);
  });

  it("mutated GGUF LoRA files (byte flips, truncation) give an adapter or a FormatError", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }),
        fc.option(fc.nat()),
        (flips, cut) => {
          let bytes = valid.slice();
          for (const [at, b] of flips) bytes[at % bytes.length] = b;
          if (cut !== null) bytes = bytes.subarray(0, cut % (bytes.length + 1));
          outcome(() => ggufLoraToPeft(parseGguf(bytes), { headCount: 2, headCountKv: 1 }));
        },
      ),
      { numRuns: 500 },
    );
  });
});
