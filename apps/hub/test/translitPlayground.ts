// The playground on the committed translation demo (examples/artifacts/translation): a Cyrillic word
// through the base and the Uzbek and Azerbaijani adapters; every word on the page must be what
// @lowrank/runtime decodes here in Node, and each adapter's own example its reference Latin spelling.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { findRepoRoot } from "@lowrank/db";
import { adapterLinear, CharSeq2Seq, initBackend, peftAdapterFromBytes } from "@lowrank/runtime";
import * as tf from "@tensorflow/tfjs-core";
import type { Page } from "playwright-core";
import { expect } from "vitest";
import { agreesWithServer } from "./demoPlayground.js";
import { checkPage } from "./webPages.js";

/** The translation demo as committed: `examples/artifacts/translation/` (hub.json, base/, adapters/). */
export const TRANSLIT_DIR = join(findRepoRoot(), "examples", "artifacts", "translation");

export interface TranslitHubJson {
  base: { name: string; input: { examples: string[] }; expected: { input: string; output: string }[] };
  adapters: { name: string; expected: { input: string; output: string }[] }[];
}

export function translitHubJson(): TranslitHubJson {
  return JSON.parse(readFileSync(join(TRANSLIT_DIR, "hub.json"), "utf8")) as TranslitHubJson;
}

/**
 * The word the playground must show, computed here in Node with the same runtime: greedy decoding of
 * `word` by the committed base, with the adapter's files as the hub serves them.
 */
export async function expectedTransliteration(
  word: string,
  adapter?: { config: Uint8Array; weights: Uint8Array },
  scale = 1,
  mixed?: { config: Uint8Array; weights: Uint8Array; scale: number },
): Promise<string> {
  await initBackend({ backend: "cpu" });
  const model = CharSeq2Seq.fromBytes(
    readFileSync(join(TRANSLIT_DIR, "base", "config.json")),
    readFileSync(join(TRANSLIT_DIR, "base", "model.safetensors")),
  );
  const lora = adapter ? peftAdapterFromBytes("expected", adapter.config, adapter.weights) : undefined;
  const second = mixed ? peftAdapterFromBytes("mixed", mixed.config, mixed.weights) : undefined;
  try {
    const one = adapterLinear(model, lora, scale);
    // The second adapter's term added on top of the first's, as the page composes them.
    const linear = second
      ? adapterLinear(
          { linearModules: model.linearModules, architecture: model.architecture, linear: one },
          second,
          mixed?.scale,
        )
      : one;
    return model.transliterate(word, linear);
  } finally {
    model.dispose();
    for (const a of [lora, second]) if (a) for (const m of a.modules.values()) tf.dispose([m.a, m.b]);
  }
}

/** Drives the transliteration playground (wasm) and checks every answer; returns the measured timings. */
export async function translitPlayground(
  page: Page,
  hubUrl: string,
): Promise<{ wasm: { loadMs: number; swapMs: number[] } }> {
  const spec = translitHubJson();
  await page.goto(`${hubUrl}/playground?base=${encodeURIComponent(spec.base.name)}&backend=wasm`);
  const status = page.getByTestId("backend");
  await status.filter({ hasText: "loaded in" }).waitFor({ timeout: 120_000 });
  const loadMs = Number(/loaded in (\d+) ms/.exec((await status.textContent()) ?? "")?.[1]);
  // First the base alone on its own example word (the page opens with it): the reference Latin.
  const first = spec.base.expected[0];
  if (!first || spec.base.input.examples[0] !== first.input)
    throw new Error("hub.json: base.expected[0] is not the first example");
  const baseCell = page.getByTestId("translit-base");
  await baseCell.filter({ hasText: /./ }).waitFor({ timeout: 60_000 });
  expect(await baseCell.textContent()).toBe(first.output);
  expect(first.output).toBe(await expectedTransliteration(first.input));
  // Nothing to mix with until an adapter is active.
  if (spec.adapters.length > 1) expect(await page.getByLabel("Mix the active adapter with").isDisabled()).toBe(true);
  const fetchFile = async (repo: string, f: string) =>
    new Uint8Array(await (await fetch(`${hubUrl}/${repo}/resolve/main/${f}`)).arrayBuffer());
  const swapMs: number[] = [];
  const word = page.getByLabel("Word to transliterate (Cyrillic)");
  // Each example word under each adapter in turn (the adapter alternates, so each click is a swap).
  const steps = spec.adapters.flatMap((own) => spec.adapters.map((adapter) => ({ adapter, example: own.expected[0] })));
  for (const { adapter, example } of steps) {
    if (!example) throw new Error(`hub.json: ${adapter.name} has no expected example`);
    const repo = `lowrank/${adapter.name}`;
    await word.fill(example.input);
    await page.getByRole("button", { name: `Use ${repo}` }).click();
    const swap = page.getByTestId("swap").filter({ hasText: `Swapped to ${repo} in` });
    await swap.waitFor({ timeout: 60_000 });
    swapMs.push(Number(/in ([\d.]+) ms/.exec((await swap.textContent()) ?? "")?.[1]));
    const shown = (await page.getByTestId("translit-adapter").textContent()) ?? "";
    const files = {
      config: await fetchFile(repo, "adapter_config.json"),
      weights: await fetchFile(repo, "adapter_model.safetensors"),
    };
    expect(shown, `${repo} on ${example.input}`).toBe(await expectedTransliteration(example.input, files));
    const baseShown = (await page.getByTestId("translit-base").textContent()) ?? "";
    expect(baseShown).toBe(await expectedTransliteration(example.input));
    if (example === adapter.expected[0]) {
      // The adapter's own example: the reference Latin spelling, which the base alone gets wrong.
      expect(shown).toBe(example.output);
      expect(baseShown).not.toBe(example.output);
    }
  }
  // The hub's inference API decodes the same word to the same answer.
  await agreesWithServer(page);
  await checkPage(page, "playground-translit");
  // Half the last adapter: the page's word is what Node decodes at scale 0.5.
  const last = steps[steps.length - 1];
  if (last?.example) {
    const repo = `lowrank/${last.adapter.name}`;
    await page.locator(`input[id="translit-scale-${repo}"]`).evaluate((el: HTMLInputElement) => {
      const set = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, "value")?.set;
      set?.call(el, "0.5");
      el.dispatchEvent(new Event("input", { bubbles: true }));
    });
    await page
      .getByTestId("swap")
      .filter({ hasText: `Swapped to ${repo} × 0.5 in` })
      .waitFor({ timeout: 60_000 });
    const files = {
      config: await fetchFile(repo, "adapter_config.json"),
      weights: await fetchFile(repo, "adapter_model.safetensors"),
    };
    expect(await page.getByTestId("translit-adapter").textContent()).toBe(
      await expectedTransliteration(last.example.input, files, 0.5),
    );
    // Mix in another adapter at full scale: the word is what Node decodes with both terms added.
    const other = spec.adapters.find((a) => a.name !== last.adapter.name);
    if (other) {
      const otherRepo = `lowrank/${other.name}`;
      await page.getByLabel("Mix the active adapter with").selectOption(otherRepo);
      await page
        .getByTestId("swap")
        .filter({ hasText: `Swapped to ${repo} × 0.5 + ${otherRepo} in` })
        .waitFor({ timeout: 60_000 });
      const mixed = {
        config: await fetchFile(otherRepo, "adapter_config.json"),
        weights: await fetchFile(otherRepo, "adapter_model.safetensors"),
        scale: 1,
      };
      const both = await expectedTransliteration(last.example.input, files, 0.5, mixed);
      expect(await page.getByTestId("translit-adapter").textContent()).toBe(both);
      // The server runs both adapters too and gives the same word: the word shown, even when the box
      // already holds another one that was not submitted yet.
      await page.getByLabel("Word to transliterate (Cyrillic)").fill("щукинская");
      await agreesWithServer(page);
    }
  }
  return { wasm: { loadMs, swapMs } };
}
