import type { Server } from "node:http";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundlePage, CHROMIUM, chromiumMissingReason, servePage, WEBGPU_FLAGS } from "./chromium.js";
import type { PageReport } from "./page.js";

// The LoRA kernel conformance suite in headless Chromium on tfjs's webgpu backend. Under CI=true this run
// must happen: a missing Chromium or WebGPU fails the suite instead of skipping it.
const CI = process.env.CI === "true";
const CASES = 9; // kernelConformanceCases' count; checked below so a new case cannot go unrun

let browser: Browser | undefined;
let server: Server | undefined;
let report: PageReport | undefined;
let unavailable: string | undefined;

describe("LoRA kernel conformance on webgpu in headless Chromium", () => {
  beforeAll(async () => {
    unavailable = chromiumMissingReason();
    if (unavailable) return;
    const served = await servePage(await bundlePage());
    server = served.server;
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: WEBGPU_FLAGS });
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(served.url);
    await page
      .waitForFunction(
        () => typeof (globalThis as { runConformance?: unknown }).runConformance === "function",
        undefined,
        { timeout: 60_000 },
      )
      .catch(() => {
        throw new Error(`the page never defined runConformance (page errors: ${errors.join("; ") || "none"})`);
      });
    report = await page.evaluate(() =>
      (globalThis as unknown as { runConformance: () => Promise<PageReport> }).runConformance(),
    );
    if (report.error) unavailable = `WebGPU unavailable in Chromium: ${report.error}`;
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  });

  it("runs on the webgpu backend (required under CI=true)", (ctx) => {
    if (unavailable && !CI) ctx.skip(unavailable);
    expect(unavailable).toBeUndefined();
    expect(report?.backend).toBe("webgpu");
    expect(report?.results).toHaveLength(CASES);
  });

  for (let i = 0; i < CASES; i++) {
    it(`conformance case ${i + 1}`, (ctx) => {
      if (unavailable && !CI) ctx.skip(unavailable);
      const r = report?.results[i];
      expect(r, `case ${i + 1} did not run`).toBeDefined();
      expect(r?.error ?? "", r?.name).toBe("");
      expect(r?.ok).toBe(true);
    });
  }
});
