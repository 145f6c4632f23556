// The translation demo on a real hub: the CharSeq2Seq base registered from its safetensors header
// (the digest the runtime reports), and the inference API's `word` decoded on the hub's engine equal
// to what @lowrank/runtime decodes in this process from the same files, for the base and each adapter.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { bases, eq, findRepoRoot } from "@lowrank/db";
import { adapterLinear, CharSeq2Seq, initBackend, peftAdapterFromBytes } from "@lowrank/runtime";
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedDemo } from "../src/hub/seed.js";
import { hubClient, startTestHub, type TestHub } from "../src/testing.js";

const dir = join(findRepoRoot(), "examples", "artifacts", "translation");
const read = (...p: string[]) => new Uint8Array(readFileSync(join(dir, ...p)));
const spec = JSON.parse(readFileSync(join(dir, "hub.json"), "utf8")) as {
  base: { name: string; input: { kind: string; examples: string[] } };
  adapters: { name: string; expected: { input: string; output: string }[] }[];
};

describe("the translation demo on the hub", () => {
  let t: TestHub;
  let model: CharSeq2Seq;
  beforeAll(async () => {
    await initBackend({ backend: "cpu" });
    t = await startTestHub();
    await seedDemo(t.hub);
    model = CharSeq2Seq.fromBytes(read("base", "config.json"), read("base", "model.safetensors"));
  }, 120_000);
  afterAll(async () => {
    model?.dispose();
    await t?.hub.inference?.close();
    await t?.close();
  });

  it("registers the base from its header with the runtime's manifest, and its playground input", async () => {
    const [row] = await t.hub.database.db.select().from(bases).where(eq(bases.name, spec.base.name));
    expect(row).toMatchObject({ architecture: "CharSeq2Seq", modelType: "char_seq2seq" });
    expect(row?.manifestDigest).toBe(model.id);
    expect((row?.config as { input?: { kind: string } } | undefined)?.input?.kind).toBe("transliteration");
  });

  it("inference with `word` answers the runtime's greedy decoding, base and each adapter", async () => {
    const client = hubClient(t.url);
    const words = spec.base.input.examples;
    for (const word of words) {
      const r = await client.inference.run.mutate({ base: spec.base.name, word });
      expect(r.text).toBe(model.transliterate(word));
    }
    for (const a of spec.adapters) {
      const lora = peftAdapterFromBytes(
        a.name,
        read("adapters", a.name, "adapter_config.json"),
        read("adapters", a.name, "adapter_model.safetensors"),
      );
      for (const word of [...words, ...a.expected.map((e) => e.input)]) {
        const r = await client.inference.run.mutate({
          base: spec.base.name,
          adapters: [{ ref: `lowrank/${a.name}` }],
          word,
        });
        expect(r.text).toBe(model.transliterate(word, adapterLinear(model, lora)));
      }
      for (const e of a.expected) {
        const r = await client.inference.run.mutate({
          base: spec.base.name,
          adapters: [{ ref: `lowrank/${a.name}` }],
          word: e.input,
        });
        expect(r.text).toBe(e.output);
      }
      for (const m of lora.modules.values()) tf.dispose([m.a, m.b]);
    }
    await expect(client.inference.run.mutate({ base: spec.base.name, word: "abc€" })).rejects.toMatchObject({
      data: { code: "BAD_REQUEST" },
      message: expect.stringContaining("vocabulary"),
    });
    await expect(client.inference.run.mutate({ base: "mnist-mlp", word: "вода" })).rejects.toMatchObject({
      data: { code: "BAD_REQUEST" },
      message: expect.stringContaining("transliteration base"),
    });
  }, 180_000);
});
