// The playground on the committed demo bases (examples/artifacts): draw digits on the MNIST base and
// swap adapters, type a sentence on the sentiment base; every output on the page must be what
// @lowrank/runtime computes here in Node for the page's own input row.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { findRepoRoot } from "@lowrank/db";
import { DEMO_DIGITS, hashedFeatures } from "@lowrank/examples/features";
import {
  adapterLinear,
  baseModelFromBytes,
  DenseClassifier,
  initBackend,
  peftAdapterFromBytes,
} from "@lowrank/runtime";
import * as tf from "@tensorflow/tfjs-core";
import type { Page } from "playwright-core";
import { expect } from "vitest";
import { checkPage } from "./webPages.js";

/** Class scores of a committed demo base (with an adapter) for one input row, computed in Node. */
export async function demoLogits(task: string, adapter: string | null, input: Float32Array): Promise<number[]> {
  await initBackend({ backend: "cpu" });
  const dir = join(findRepoRoot(), "examples", "artifacts", task);
  const read = (...p: string[]) => new Uint8Array(readFileSync(join(dir, ...p)));
  const model = baseModelFromBytes(read("base", "config.json"), read("base", "model.safetensors"));
  const lora = adapter
    ? peftAdapterFromBytes(
        adapter,
        read("adapters", adapter, "adapter_config.json"),
        read("adapters", adapter, "adapter_model.safetensors"),
      )
    : undefined;
  try {
    if (!(model instanceof DenseClassifier)) throw new Error(`${task}: expected a Dense classifier base`);
    const out = tf.tidy(() => model.forward(tf.tensor2d(input, [1, input.length]), adapterLinear(model, lora, 1)));
    const data = Array.from((await out.data()) as Float32Array);
    out.dispose();
    return data;
  } finally {
    model.dispose();
    if (lora) for (const m of lora.modules.values()) tf.dispose([m.a, m.b]);
  }
}

const logitsOf = async (page: Page, testId: string) =>
  ((await page.getByTestId(testId).getAttribute("data-logits")) ?? "").split(",").filter(Boolean).map(Number);

async function expectLogits(page: Page, testId: string, task: string, adapter: string | null, input: Float32Array) {
  const shown = await logitsOf(page, testId);
  const expected = await demoLogits(task, adapter, input);
  expect(shown, `${testId} (${adapter ?? "base"})`).toHaveLength(expected.length);
  for (const [i, v] of shown.entries()) expect(v, `${testId} class ${i}`).toBeCloseTo(expected[i] as number, 4);
}

/** Waits until the base column shows an output other than `before` (a new evaluation). */
async function nextOutput(page: Page, before: string | null) {
  await page.waitForFunction(
    (prev) => {
      const v = document.querySelector("[data-testid=base-out]")?.getAttribute("data-logits");
      return Boolean(v) && v !== prev;
    },
    before,
    { timeout: 60_000 },
  );
}

async function draw(page: Page, strokes: ReadonlyArray<ReadonlyArray<readonly [number, number]>>) {
  const box = await page.getByTestId("digit-canvas").boundingBox();
  if (!box) throw new Error("the digit canvas is not on screen");
  const before = await page.getByTestId("base-out").getAttribute("data-logits");
  for (const stroke of strokes) {
    const [first, ...rest] = stroke;
    if (!first) continue;
    await page.mouse.move(box.x + first[0], box.y + first[1]);
    await page.mouse.down();
    for (const [x, y] of rest) await page.mouse.move(box.x + x, box.y + y, { steps: 12 });
    await page.mouse.up();
  }
  await nextOutput(page, before);
  const pixels = (await page.getByTestId("digit-pixels").getAttribute("data-pixels")) ?? "";
  return Float32Array.from(pixels.split(",").map(Number));
}

async function swapTo(page: Page, repo: string) {
  await page.getByRole("button", { name: `Use ${repo}` }).click();
  await page
    .getByTestId("swap")
    .filter({ hasText: `Swapped to ${repo} in` })
    .waitFor({ timeout: 60_000 });
  return Number(/in ([\d.]+) ms/.exec((await page.getByTestId("swap").textContent()) ?? "")?.[1]);
}

/** Clicks the server check and expects the page to say both answers agree. */
export async function agreesWithServer(page: Page, context: () => string = () => "") {
  await page.getByRole("button", { name: "Run the same input on the server" }).click();
  await page.waitForFunction(
    () =>
      /^(Agrees|Disagrees|The server could not)/.test(
        document.querySelector("[data-testid=agreement]")?.textContent ?? "",
      ),
    undefined,
    { timeout: 120_000 },
  );
  const said = (await page.getByTestId("agreement").textContent()) ?? "";
  expect(said, `${said}\n${context()}`).toMatch(/^Agrees/);
}

const answer = async (page: Page, testId: string) => page.getByTestId(`${testId}-answer`).textContent();

/** Draws an upright 7, swaps to the rotated-45 adapter and draws the 7 rotated, then the inverted adapter. */
export async function mnistPlayground(page: Page, url: string): Promise<{ loadMs: number; swapMs: number[] }> {
  await page.goto(`${url}/playground?base=mnist-mlp&backend=wasm`);
  const status = page.getByTestId("backend");
  await status.filter({ hasText: "loaded in" }).waitFor({ timeout: 120_000 });
  const loadMs = Number(/loaded in (\d+) ms/.exec((await status.textContent()) ?? "")?.[1]);

  const upright = await draw(page, DEMO_DIGITS.seven.strokes);
  expect(upright.some((v) => v > 0.5)).toBe(true);
  expect(await answer(page, "base-out")).toBe(DEMO_DIGITS.seven.base);
  await expectLogits(page, "base-out", "mnist", null, upright);

  const swapMs = [await swapTo(page, "lowrank/mnist-rotated-45")];
  await expectLogits(page, "adapter-out", "mnist", "mnist-rotated-45", upright);

  // Clear from the keyboard, then draw the same 7 rotated 45° clockwise.
  await page.getByRole("button", { name: "Clear the drawing" }).focus();
  await page.keyboard.press("Enter");
  await page.waitForFunction(() =>
    (document.querySelector("[data-testid=digit-pixels]")?.getAttribute("data-pixels") ?? "1")
      .split(",")
      .every((v) => v === "0"),
  );
  // Cleared means no input: the page says nothing is drawn and shows no answer (not the old digit's).
  await page.getByTestId("nothing-drawn").waitFor({ timeout: 10_000 });
  expect(await page.getByTestId("base-out").getAttribute("data-logits")).toBeNull();
  expect(await page.getByTestId("adapter-out").getAttribute("data-logits")).toBeNull();
  const rotated = await draw(page, DEMO_DIGITS.sevenRotated.strokes);
  expect(await answer(page, "adapter-out")).toBe(DEMO_DIGITS.sevenRotated["mnist-rotated-45"]);
  expect(await answer(page, "base-out")).not.toBe(DEMO_DIGITS.sevenRotated.notBase);
  await expectLogits(page, "base-out", "mnist", null, rotated);
  await expectLogits(page, "adapter-out", "mnist", "mnist-rotated-45", rotated);
  const rotatedLogits = await logitsOf(page, "adapter-out");

  swapMs.push(await swapTo(page, "lowrank/mnist-inverted"));
  await expectLogits(page, "adapter-out", "mnist", "mnist-inverted", rotated);
  expect(await logitsOf(page, "adapter-out")).not.toEqual(rotatedLogits);
  await agreesWithServer(page);
  await checkPage(page, "playground-mnist");
  return { loadMs, swapMs };
}

/** Types a sentence on the sentiment base and swaps the IMDB adapter in. */
export async function sentimentPlayground(page: Page, url: string): Promise<void> {
  await page.goto(`${url}/playground?base=sentiment-bow-mlp&backend=wasm`);
  await page.getByTestId("backend").filter({ hasText: "loaded in" }).waitFor({ timeout: 120_000 });
  const sentence = "The plot was dull and the acting was terrible, a waste of two hours.";
  await page.getByLabel("Sentence").fill(sentence);
  const before = await page.getByTestId("base-out").getAttribute("data-logits");
  await page.getByRole("button", { name: "Run", exact: true }).click();
  await nextOutput(page, before);
  const features = hashedFeatures([sentence], 2048);
  await expectLogits(page, "base-out", "sentiment", null, features);
  await swapTo(page, "lowrank/sentiment-imdb");
  await expectLogits(page, "adapter-out", "sentiment", "sentiment-imdb", features);
  await expectLogits(page, "base-out", "sentiment", null, features);
  expect(["negative", "positive"]).toContain(await answer(page, "adapter-out"));
  await agreesWithServer(page);
  await checkPage(page, "playground-sentiment");
}
