// Demo artifacts of the translation recipe for the hub (layout: examples/artifacts/README.md):
// `npx tsx --conditions=@lowrank/source examples/src/translit/exportTranslation.ts` trains the
// Serbian/Bosnian Cyrillic -> Latin base and the Uzbek and Azerbaijani LoRA adapters with the
// recipe's own settings and writes examples/artifacts/translation/.
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { trainAdapter } from "@lowrank/core";
import { initBackend } from "@lowrank/runtime";
import type * as tf from "@tensorflow/tfjs-core";
import { savePeftAdapter } from "../lib/artifacts.js";
import { disposeDomains } from "../lib/disposeTask.js";
import type { Domain } from "../lib/experiment.js";
import { trainLora } from "../lib/experiment.js";
import type { Seq2Seq } from "../lib/Seq2Seq.js";
import { translationTask, translitVocab } from "../recipes/translation.js";
import { seq2seqConfigJson, seq2seqSafetensors } from "./seq2seqFiles.js";
import { adapterCard, baseCard } from "./translationCards.js";
import { decodeWords, pickExamples, type WordExample, wordsOf } from "./translitWords.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const BASE_NAME = "translit-cyrillic-latin";
const ADAPTERS = [
  { name: "translit-uzbek", domain: "Uzbek", code: "uz" },
  { name: "translit-azerbaijani", domain: "Azerbaijani", code: "az" },
] as const;

async function main(out: string): Promise<void> {
  await initBackend({ backend: "wasm" });
  const t0 = performance.now();
  const vocab = translitVocab();
  const spec = { ...translationTask(), log: (l: string) => console.log(l) };
  const base = spec.build(spec.seed);
  const model = base.host as Seq2Seq;
  await trainAdapter({ model: base.full, data: spec.source.train, loss: spec.loss, seed: spec.seed, ...spec.base });
  const forwardBase = (x: tf.Tensor) => base.full.forward(x, {});
  const baseAcc = spec.evaluate(forwardBase, spec.source.test);
  console.log(
    `base: ${(baseAcc * 100).toFixed(1)}% on ${spec.source.name} (${((performance.now() - t0) / 1000).toFixed(1)} s)`,
  );
  rmSync(out, { recursive: true, force: true });
  const baseDir = path.join(out, "base");
  mkdirSync(baseDir, { recursive: true });
  writeFileSync(path.join(baseDir, "config.json"), `${JSON.stringify(seq2seqConfigJson(model, vocab), null, 2)}\n`);
  writeFileSync(path.join(baseDir, "model.safetensors"), seq2seqSafetensors(model));

  const words = (d: Domain) => wordsOf(d.test, vocab);
  const results = [];
  for (const a of ADAPTERS) {
    const target = spec.targets.find((d) => d.name === a.domain) as Domain;
    const test = words(target);
    const baseOnTarget = spec.evaluate(forwardBase, target.test);
    const baseOut = decodeWords(
      forwardBase,
      test.map((w) => w[0]),
      vocab,
    );
    const { lora, metric } = await trainLora(spec, base, target, spec.adapter.rank);
    const loraOut = decodeWords(
      (x) => lora.forward(x),
      test.map((w) => w[0]),
      vocab,
    );
    const examples = pickExamples(test, baseOut, loraOut, 4);
    savePeftAdapter(path.join(out, "adapters", a.name), lora, "default", { base_model_name_or_path: BASE_NAME });
    lora.dispose();
    const r = { ...a, accuracy: metric, baseAccuracy: baseOnTarget, tested: test.length, examples };
    writeFileSync(path.join(out, "adapters", a.name, "README.md"), adapterCard(r, BASE_NAME, spec.adapter));
    results.push(r);
    console.log(`${a.domain}: base ${(baseOnTarget * 100).toFixed(1)}%, LoRA ${(metric * 100).toFixed(1)}%`);
  }
  const sourceTest = words(spec.source);
  const sourceOut = decodeWords(
    forwardBase,
    sourceTest.map((w) => w[0]),
    vocab,
  );
  const baseExamples = pickExamples(sourceTest, sourceOut, sourceOut, 2);
  const sourceTested = sourceTest.length;
  writeFileSync(
    path.join(baseDir, "README.md"),
    baseCard({ accuracy: baseAcc, tested: sourceTested, examples: baseExamples }, spec.base),
  );
  const hub = {
    base: {
      name: BASE_NAME,
      license: "mit",
      description:
        "Character-level encoder-decoder that transliterates Serbian/Bosnian Cyrillic words into Latin script (udhr)",
      pipeline_tag: "translation",
      input: {
        kind: "transliteration",
        from: "Cyrillic",
        to: "Latin",
        maxLength: model.config.srcLen,
        examples: [...baseExamples, ...results.map((r) => r.examples[0] as WordExample)].map((e) => e.input),
      },
      heldOutAccuracy: baseAcc,
      expected: baseExamples.map(({ input, output }) => ({ input, output })),
    },
    adapters: results.map((r) => ({
      name: r.name,
      description: `LoRA r=${spec.adapter.rank}: ${r.domain} Cyrillic -> Latin transliteration (held-out word accuracy ${(r.accuracy * 100).toFixed(1)}%)`,
      tags: ["translation", "transliteration", r.code, "udhr", "lora"],
      heldOutAccuracy: r.accuracy,
      expected: r.examples.map(({ input, output }) => ({ input, output })),
    })),
  };
  writeFileSync(path.join(out, "hub.json"), `${JSON.stringify(hub, null, 2)}\n`);
  disposeDomains([spec.source, ...spec.targets]);
  base.dispose();
  console.log(
    `translation: written ${path.relative(process.cwd(), out)}/ in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
}

await main(path.join(root, "artifacts", "translation"));
