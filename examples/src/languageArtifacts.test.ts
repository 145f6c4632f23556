// The committed GPT-2 language demo (examples/artifacts/udhr-gpt2/, written by `run.ts language`), checked
// from its files as the hub seeds and the playground loads them.
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseModelCard } from "@lowrank/formats";
import { adapterLinear, type Gpt2, loadHfModel, loadTokenizer, peftAdapterFromBytes } from "@lowrank/runtime";
import * as tf from "@tensorflow/tfjs-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TEXT_LANGUAGES, type TextLanguage } from "./data/udhrText.js";
import { BASE_NAME, greedyContinuation, languageModels } from "./languageDemo.js";
import { identifyLanguage } from "./lib/charBigram.js";
import { meanLoss } from "./lib/lmData.js";
import { languageSplits } from "./recipes/language.js";

const root = fileURLToPath(new URL(`../artifacts/${BASE_NAME}/`, import.meta.url));
interface HubJson {
  base: { name: string; license: string; input: { kind: string; prompt: string } };
  adapters: { name: string; tags: string[]; expected: { input: string; output: string }[] }[];
}
const hub = JSON.parse(readFileSync(path.join(root, "hub.json"), "utf8")) as HubJson;
const codeOf = (adapter: string) =>
  (Object.keys(TEXT_LANGUAGES) as TextLanguage[]).find((c) =>
    adapter.endsWith(`-${TEXT_LANGUAGES[c].name.toLowerCase()}`),
  );
const folderBytes = (dir: string): number =>
  readdirSync(dir).reduce((n, f) => {
    const p = path.join(dir, f);
    return n + (statSync(p).isDirectory() ? folderBytes(p) : statSync(p).size);
  }, 0);

describe(`examples/artifacts/${BASE_NAME}`, () => {
  let gpt2: Gpt2;
  beforeAll(async () => {
    gpt2 = (await loadHfModel(path.join(root, "base"))) as Gpt2;
  });
  afterAll(() => gpt2?.dispose());

  it("is a GPT-2 text-generation base with a byte-level tokenizer, one adapter per language, cards, under 2 MB", async () => {
    expect(hub.base.name).toBe(BASE_NAME);
    expect(hub.base.input.kind).toBe("text");
    expect(gpt2.architecture).toBe("GPT2LMHeadModel");
    const tokenizer = await loadTokenizer(path.join(root, "base"));
    const text = "Article 1 — égalité, Würde, niño.";
    expect(tokenizer.encode(text)).toEqual([...new TextEncoder().encode(text)]);
    expect(tokenizer.decode(tokenizer.encode(text))).toBe(text);
    expect(hub.adapters.length).toBeGreaterThanOrEqual(3);
    for (const a of hub.adapters) {
      const code = codeOf(a.name);
      expect(code, a.name).toBeDefined();
      const card = parseModelCard(readFileSync(path.join(root, "adapters", a.name, "README.md")));
      expect(card.data).toMatchObject({
        base_model: BASE_NAME,
        library_name: "peft",
        pipeline_tag: "text-generation",
        language: [TEXT_LANGUAGES[code as TextLanguage].iso],
      });
    }
    expect(parseModelCard(readFileSync(path.join(root, "base", "README.md"))).data).toMatchObject({ license: "mit" });
    expect(folderBytes(root)).toBeLessThan(2 * 1024 * 1024);
  });

  it("the base models English far better than a uniform guess; each adapter lowers its language's held-out loss", () => {
    const loss = (code: TextLanguage, linear = gpt2.linear) => {
      const { train, test } = languageSplits(code, 64);
      const l = meanLoss((x) => gpt2.forward(x, linear), test);
      tf.dispose([train.x, train.y, test.x, test.y]);
      return l;
    };
    expect(loss("eng")).toBeLessThan(0.5 * Math.log(256));
    for (const a of hub.adapters) {
      const code = codeOf(a.name) as TextLanguage;
      const dir = path.join(root, "adapters", a.name);
      const weights = peftAdapterFromBytes(
        a.name,
        readFileSync(path.join(dir, "adapter_config.json")),
        readFileSync(path.join(dir, "adapter_model.safetensors")),
      );
      const base = loss(code);
      const adapted = loss(code, adapterLinear(gpt2, weights, 1));
      for (const m of weights.modules.values()) tf.dispose([m.a, m.b]);
      expect(adapted, a.name).toBeLessThan(0.8 * base);
    }
  });

  it("greedy continuations of the default prompt: the ones hub.json records, each in its adapter's language", async () => {
    const models = languageModels();
    const prompt = hub.base.input.prompt;
    const base = await greedyContinuation(gpt2, prompt);
    expect(identifyLanguage(base, models).best).toBe("eng");
    const seen = new Set([base]);
    for (const a of hub.adapters) {
      const text = await greedyContinuation(gpt2, prompt, path.join(root, "adapters", a.name));
      expect(text.length).toBeGreaterThanOrEqual(40);
      expect(a.expected).toEqual([{ input: prompt, output: text }]);
      expect(identifyLanguage(text, models).best, `${a.name}: ${JSON.stringify(text)}`).toBe(codeOf(a.name));
      seen.add(text);
    }
    expect(seen.size).toBe(hub.adapters.length + 1);
  });
});
