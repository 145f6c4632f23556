// Property-based tests of the GGUF LoRA converters (issue 10, item 20): random adapters of every
// architecture lowrank writes round-trip; random and mutated files give an adapter or a FormatError.
import { readFileSync } from "node:fs";
import { fixturePath } from "@lowrank/vitest-config/fixtures";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeToFloat32 } from "../dtypeDecode.js";
import { encodeRounded } from "../dtypeRound.js";
import type { PeftAdapter } from "../peft/PeftAdapter.js";
import { loraScale, parsePeftConfig } from "../peft/parsePeftConfig.js";
import { formatOutcome } from "../testing.js";
import { parseGguf } from "./GgufFile.js";
import { ggufLoraToPeft, peftToGgufLora } from "./ggufLora.js";
import { serializeGguf } from "./serializeGguf.js";

const config = (c: Record<string, unknown>) =>
  parsePeftConfig({ peft_type: "LORA", target_modules: ["q_proj"], task_type: "CAUSAL_LM", ...c }).config;

describe("PEFT -> GGUF -> PEFT properties", () => {
  const ARCH = {
    llama: {
      block: "model.layers",
      embedding: "model.embed_tokens",
      modules: [
        "self_attn.q_proj",
        "self_attn.k_proj",
        "self_attn.v_proj",
        "self_attn.o_proj",
        "mlp.gate_proj",
        "mlp.up_proj",
        "mlp.down_proj",
      ],
    },
    qwen2: {
      block: "model.layers",
      embedding: "model.embed_tokens",
      modules: ["self_attn.q_proj", "self_attn.k_proj", "mlp.down_proj"],
    },
    gpt2: {
      block: "transformer.h",
      embedding: "transformer.wte",
      modules: ["attn.c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj"],
    },
    bert: {
      block: "bert.encoder.layer",
      embedding: "bert.embeddings.word_embeddings",
      modules: [
        "attention.self.query",
        "attention.self.key",
        "attention.output.dense",
        "intermediate.dense",
        "output.dense",
      ],
    },
  } as const;
  const SIZE = { F32: 4, F16: 2, BF16: 2 } as const;
  const ULP = { F32: 2 ** -22, F16: 2 ** -9, BF16: 2 ** -6 } as const;

  const arbitrary = fc
    .record({
      arch: fc.constantFrom(...(Object.keys(ARCH) as Array<keyof typeof ARCH>)),
      picks: fc.uniqueArray(
        fc.tuple(fc.integer({ min: 0, max: 1 }), fc.integer({ min: 0, max: 6 }), fc.integer({ min: 1, max: 3 })),
        {
          minLength: 1,
          maxLength: 6,
          selector: ([b, m]) => `${b}.${m}`,
        },
      ),
      embedding: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
      loraAlpha: fc.constantFrom(0, 1, 4, 16),
      alphas: fc.array(fc.constantFrom(0, 3, 8), { maxLength: 3 }),
      rslora: fc.boolean(),
      dtype: fc.constantFrom("F32", "F16", "BF16" as const),
      seed: fc.integer({ min: 1, max: 1000 }),
    })
    .map(({ arch, picks, embedding, loraAlpha, alphas, rslora, dtype, seed }) => {
      const t = ARCH[arch];
      let s = seed;
      const tensor = (shape: number[]) => {
        const n = shape[0]! * shape[1]!;
        const v = new Float32Array(n).map(() => {
          s = (s * 48271) % 2147483647;
          return (s / 2147483647 - 0.5) * 4;
        });
        return { dtype, shape, data: encodeRounded(dtype, v) };
      };
      const modules: PeftAdapter["modules"] = {};
      const rankPattern: Record<string, number> = {};
      for (const [b, m, r] of picks) {
        const name = `${t.block}.${b}.${t.modules[m % t.modules.length]}`;
        if (modules[name]) continue;
        const out = name.endsWith("k_proj") ? 4 : 8;
        modules[name] = { kind: "lora", A: tensor([r, 8]), B: tensor([out, r]) };
        if (r !== 2) rankPattern[name] = r;
      }
      if (embedding) {
        modules[t.embedding] = { kind: "embedding", A: tensor([embedding, 6]), B: tensor([8, embedding]) };
        if (embedding !== 2) rankPattern[t.embedding] = embedding;
      }
      const names = Object.keys(modules);
      const alphaPattern = Object.fromEntries(alphas.map((a, i) => [names[i % names.length]!, a]));
      const adapter: PeftAdapter = {
        config: config({
          r: 2,
          lora_alpha: loraAlpha,
          rank_pattern: rankPattern,
          alpha_pattern: alphaPattern,
          use_rslora: rslora,
        }),
        modules,
        modulesToSave: {},
        otherTensors: {},
        metadata: { format: "pt" },
        modelCard: null,
      };
      return { arch, dtype, adapter };
    });

  it("come back with the same config, names and A bytes; B exact where no scale is folded, else within one rounding", () => {
    fc.assert(
      fc.property(arbitrary, ({ arch, dtype, adapter }) => {
        const { bytes } = peftToGgufLora(adapter, { architecture: arch, headCount: 2, headCountKv: 1 });
        const file = parseGguf(bytes);
        expect(file.getNumber("adapter.lora.alpha")).not.toBe(0);
        const back = ggufLoraToPeft(file).adapter; // head counts from the file
        expect(back.config).toEqual(adapter.config);
        expect(Object.keys(back.modules).sort()).toEqual(Object.keys(adapter.modules).sort());
        const fileAlpha = file.getNumber("adapter.lora.alpha") as number;
        for (const [m, w] of Object.entries(adapter.modules)) {
          const b = back.modules[m]!;
          expect([b.kind, b.A.shape, b.B.shape], m).toEqual([w.kind, w.A.shape, w.B.shape]);
          expect(Buffer.compare(Buffer.from(b.A.data), Buffer.from(w.A.data)), m).toBe(0);
          const r = w.A.shape[0]!;
          const factor = (loraScale(m, adapter.config) * r) / fileAlpha;
          const orig = decodeToFloat32(dtype, w.B.data);
          const got = decodeToFloat32(dtype, b.B.data);
          for (let i = 0; i < orig.length; i++) {
            const o = orig[i] as number;
            const g = got[i] as number;
            if (factor === 0) expect(g, m).toBe(0);
            else if (factor === 1) expect(g, m).toBe(o);
            else expect(Math.abs(g - o), `${m} x${factor}`).toBeLessThanOrEqual(Math.abs(o) * ULP[dtype] + 1e-30);
          }
          expect(b.B.data.length).toBe(w.B.data.length);
          expect(SIZE[dtype] * orig.length).toBe(w.B.data.length);
        }
      }),
      { numRuns: 150 },
    );
  });
});

describe("GGUF LoRA reader properties (tensor names and shapes other tools may write)", () => {
  const NAMES = [
    "token_embd.weight",
    "blk.0.attn_qkv.weight",
    "blk.1.attn_q.weight",
    "blk.0.attn_k.weight",
    "blk.0.ffn_gate.weight",
    "output.weight",
    "blk.x.attn_v.weight",
  ];

  it("any architecture, names and factor shapes give an adapter or a FormatError", () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(
        fc.constantFrom("llama", "qwen2", "gpt2", "bert", "falcon", ""),
        fc.uniqueArray(fc.constantFrom(...NAMES), { minLength: 1, maxLength: 4 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 5 })), {
          minLength: 8,
          maxLength: 8,
        }),
        fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
        fc.boolean(),
        fc.boolean(),
        (arch, names, dims, heads, dropB, paired) => {
          const tensors = names.flatMap((n, i) => {
            const out = [];
            for (const [half, k] of [
              ["a", 2 * i],
              ["b", 2 * i + 1],
            ] as const) {
              if (half === "b" && dropB && i === 0) continue;
              let [x = 1, y = 1] = dims[k % dims.length]!;
              // paired: B's rank side equals A's, as a real adapter's factors do (keeps the valid path common)
              if (half === "b" && paired) x = dims[(k - 1) % dims.length]![1];
              out.push({ name: `${n}.lora_${half}`, type: "F32", dims: [x, y], data: new Uint8Array(4 * x * y) });
            }
            return out;
          });
          const bytes = serializeGguf({
            metadata: {
              "general.architecture": { type: "string", value: arch },
              "general.type": { type: "string", value: "adapter" },
              "adapter.type": { type: "string", value: "lora" },
            },
            tensors,
          });
          seen.add(formatOutcome(() => ggufLoraToPeft(parseGguf(bytes), heads ? { headCount: heads } : {})));
        },
      ),
      {
        numRuns: 400,
        // Valid files found by this generator, run first so the accepting path is always exercised
        // (random shapes alone are valid in about 1% of runs).
        examples: [
          [
            "bert",
            ["blk.1.attn_q.weight"],
            [
              [2, 0],
              [0, 1],
              [2, 5],
              [2, 1],
              [2, 3],
              [4, 0],
              [4, 3],
              [4, 1],
            ],
            2,
            false,
            false,
          ],
          [
            "gpt2",
            ["blk.0.attn_qkv.weight"],
            [
              [0, 5],
              [5, 2],
              [1, 1],
              [3, 1],
              [0, 4],
              [1, 4],
              [5, 0],
              [0, 1],
            ],
            undefined,
            false,
            false,
          ],
          [
            "llama",
            ["blk.0.attn_k.weight"],
            [
              [1, 5],
              [5, 0],
              [0, 5],
              [3, 4],
              [3, 0],
              [4, 1],
              [2, 2],
              [2, 0],
            ],
            1,
            false,
            true,
          ],
        ],
      },
    );
    expect(seen.has("ok")).toBe(true);
    expect(seen.size).toBeGreaterThan(2);
  });

  it("mutated copies of the gguf-py-written file give an adapter or a FormatError", () => {
    const valid = new Uint8Array(readFileSync(fixturePath("gguf-lora-gguf-py", "llama-lora-embd-q-down.gguf")));
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }),
        fc.option(fc.nat()),
        (flips, cut) => {
          let bytes = valid.slice();
          for (const [at, b] of flips) bytes[at % bytes.length] = b;
          if (cut !== null) bytes = bytes.subarray(0, cut % (bytes.length + 1));
          formatOutcome(() => ggufLoraToPeft(parseGguf(bytes), { headCount: 2 }));
        },
      ),
      { numRuns: 400 },
    );
  });
});
