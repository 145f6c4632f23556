import { readFileSync } from "node:fs";
import { join } from "node:path";
import { findRepoRoot } from "@lowrank/db";
import {
  adapterLinear,
  CharSeq2Seq,
  createSyntheticMlp,
  Engine,
  initBackend,
  peftAdapterFromBytes,
} from "@lowrank/runtime";
import * as tf from "@tensorflow/tfjs-core";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inferenceInputSchema } from "./inference.js";
import { transliterateOnEngine } from "./transliterate.js";

const dir = join(findRepoRoot(), "examples", "artifacts", "translation");
const read = (...p: string[]) => new Uint8Array(readFileSync(join(dir, ...p)));
const hub = JSON.parse(readFileSync(join(dir, "hub.json"), "utf8")) as {
  adapters: { name: string; expected: { input: string; output: string }[] }[];
};

// The hub's server-side transliteration: greedy decoding with one engine forward per character.
describe("transliterateOnEngine", () => {
  let engine: Engine;
  let model: CharSeq2Seq;
  beforeAll(async () => {
    await initBackend({ backend: "cpu" });
    engine = new Engine({ maxWaitMs: 1 });
    model = CharSeq2Seq.fromBytes(read("base", "config.json"), read("base", "model.safetensors"));
    engine.addBase("translit", model);
    engine.addBase("mlp", createSyntheticMlp({ dims: [4, 3] }));
  });
  afterAll(async () => {
    await engine?.close();
  });

  it("answers what the model decodes in process, for the base and for each adapter", async () => {
    for (const a of hub.adapters) {
      const config = read("adapters", a.name, "adapter_config.json");
      const weights = read("adapters", a.name, "adapter_model.safetensors");
      engine.registerAdapter(a.name, { kind: "bytes", config, weights });
      const local = peftAdapterFromBytes(a.name, config, weights);
      for (const { input } of a.expected) {
        const req = { base: "translit", baseName: "translit", scale: 1, word: input };
        await expect(transliterateOnEngine(engine, { ...req, adapter: a.name })).resolves.toBe(
          model.transliterate(input, adapterLinear(model, local)),
        );
        await expect(transliterateOnEngine(engine, { ...req, adapter: "__base__" })).resolves.toBe(
          model.transliterate(input),
        );
      }
      for (const m of local.modules.values()) tf.dispose([m.a, m.b]);
    }
  }, 120_000);

  it("refuses a base of another kind and characters outside the vocabulary with typed errors", async () => {
    await expect(
      transliterateOnEngine(engine, { base: "mlp", baseName: "mlp", adapter: "__base__", scale: 1, word: "ab" }),
    ).rejects.toMatchObject({ code: "BAD_REQUEST", message: expect.stringContaining("transliteration base") });
    await expect(
      transliterateOnEngine(engine, { base: "translit", baseName: "t", adapter: "__base__", scale: 1, word: "€" }),
    ).rejects.toMatchObject({ name: "RuntimeError", code: "InvalidArgument" });
  });
});

describe("inferenceInputSchema with word", () => {
  it("accepts exactly one of inputIds, input and word; a word is 1 to 64 characters", () => {
    fc.assert(
      fc.property(
        fc.option(fc.array(fc.nat({ max: 1000 }), { minLength: 1, maxLength: 4 }), { nil: undefined }),
        fc.option(fc.array(fc.double({ noNaN: true, noDefaultInfinity: true }), { minLength: 1, maxLength: 4 }), {
          nil: undefined,
        }),
        fc.option(fc.string({ maxLength: 80 }), { nil: undefined }),
        (inputIds, input, word) => {
          const given = [inputIds, input, word].filter((x) => x !== undefined).length;
          const ok = given === 1 && (word === undefined || (word.length >= 1 && word.length <= 64));
          const r = inferenceInputSchema.safeParse({ base: "translit-cyrillic-latin", inputIds, input, word });
          expect(r.success).toBe(ok);
        },
      ),
    );
  });
});
