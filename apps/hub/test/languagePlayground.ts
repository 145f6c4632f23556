// The playground on the seeded udhr GPT-2 (examples/artifacts/udhr-gpt2): swap language adapters and
// check each greedy continuation against @lowrank/runtime in Node.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { findRepoRoot } from "@lowrank/db";
import {
  type Gpt2,
  generate,
  hfModelFromBytes,
  initBackend,
  peftAdapterFromBytes,
  tokenizerFromJson,
} from "@lowrank/runtime";
import * as tf from "@tensorflow/tfjs-core";
import type { Page } from "playwright-core";
import { expect } from "vitest";
import { checkPage } from "./webPages.js";

/** Where a seeded demo task's files are (examples/artifacts/<task>/, what the hub seeds from). */
export function artifactsPath(...parts: string[]): string {
  return join(findRepoRoot(), "examples", "artifacts", ...parts);
}

/**
 * The greedy continuation the playground must show, computed here in Node with the runtime's
 * KV-cached `generate` (the playground re-runs the whole sequence each step): `tokens` new tokens of
 * `prompt` on a seeded text base, alone or with an adapter's files as the hub serves them.
 */
export async function expectedContinuation(
  task: string,
  prompt: string,
  tokens: number,
  adapter?: { config: Uint8Array; weights: Uint8Array },
): Promise<string> {
  await initBackend({ backend: "cpu" });
  const base = (file: string) => readFileSync(artifactsPath(task, "base", file));
  const model = hfModelFromBytes(base("config.json"), base("model.safetensors")) as Gpt2;
  const tokenizer = tokenizerFromJson(JSON.parse(base("tokenizer.json").toString("utf8")));
  const lora = adapter ? peftAdapterFromBytes("expected", adapter.config, adapter.weights) : undefined;
  try {
    const r = await generate(model, tokenizer, prompt, { maxNewTokens: tokens, eosTokenId: null, adapter: lora });
    return r.completion;
  } finally {
    model.dispose();
    if (lora) for (const m of lora.modules.values()) tf.dispose([m.a, m.b]);
  }
}

/**
 * Opens the playground on `udhr-gpt2`, swaps to the French then the German adapter, and checks every
 * continuation on the page equals Node's, equals what hub.json records (whose language the examples'
 * tests check with a character-bigram model), and that the three differ.
 */
export async function udhrPlayground(page: Page, hubUrl: string): Promise<void> {
  // Seeded from examples/artifacts/udhr-gpt2 (hub.json): a byte-level GPT-2 on English, one adapter per language.
  const spec = JSON.parse(readFileSync(artifactsPath("udhr-gpt2", "hub.json"), "utf8")) as {
    base: { name: string; input: { prompt: string } };
    adapters: { name: string; expected: { input: string; output: string }[] }[];
  };
  await page.goto(`${hubUrl}/playground?base=${spec.base.name}&backend=wasm`);
  await page.getByTestId("backend").filter({ hasText: "loaded in" }).waitFor({ timeout: 120_000 });
  const prompt = await page.getByLabel("Prompt").inputValue();
  expect(prompt).toBe(spec.base.input.prompt);
  const tokens = 48; // the playground's continuation for byte-level vocabularies
  const continuation = (column: string) => page.getByTestId(`${column}-continuation`).textContent();
  await page.getByTestId("base-out-continuation").waitFor({ timeout: 60_000 });
  const base = (await continuation("base-out")) ?? "";
  expect(base).toBe(await expectedContinuation("udhr-gpt2", prompt, tokens));
  const shown: string[] = [base];
  for (const a of spec.adapters.filter((x) => /-(french|german)$/.test(x.name))) {
    const repo = `lowrank/${a.name}`;
    await page.getByRole("button", { name: `Use ${repo}` }).click();
    await page
      .getByTestId("swap")
      .filter({ hasText: `Swapped to ${repo} in` })
      .waitFor({ timeout: 60_000 });
    const text = (await continuation("adapter-out")) ?? "";
    const fetchFile = async (f: string) =>
      new Uint8Array(await (await fetch(`${hubUrl}/${repo}/resolve/main/${f}`)).arrayBuffer());
    const expected = await expectedContinuation("udhr-gpt2", prompt, tokens, {
      config: await fetchFile("adapter_config.json"),
      weights: await fetchFile("adapter_model.safetensors"),
    });
    expect(text, repo).toBe(expected);
    // hub.json records the continuation whose language examples/src/languageArtifacts.test.ts checks
    // (a character-bigram model of each declaration names the adapter's language for it).
    expect(text, repo).toBe(a.expected[0]?.output);
    expect(text.length).toBeGreaterThanOrEqual(40);
    expect((await continuation("base-out")) ?? "").toBe(base);
    shown.push(text);
  }
  expect(shown).toHaveLength(3);
  expect(new Set(shown).size).toBe(3);
  await checkPage(page, "playground-udhr-gpt2");
}
