import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { peftFilesFor } from "@lowrank/api/testing";
import { findRepoRoot } from "@lowrank/db";
import { type HfConfig, manifestFromConfig } from "@lowrank/formats";
import type { Page } from "playwright-core";
import { expect } from "vitest";
import { seriousViolations } from "./axe.js";

/** Screenshots of the main pages, kept after the run for people to look at (not in git). */
export const RESULTS_DIR = join(import.meta.dirname, "..", "test-results");

export const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

/** axe-core finds nothing serious or critical, then a full-page screenshot under test-results/. */
export async function checkPage(page: Page, name: string): Promise<void> {
  expect(await seriousViolations(page), `axe on ${name}`).toEqual([]);
  mkdirSync(RESULTS_DIR, { recursive: true });
  await page.screenshot({ path: join(RESULTS_DIR, `${name}.png`), fullPage: true });
}

/** A card that tries every way to run code; none of them may. */
export const HOSTILE_CARD = `---
tags: [e2e, zanzibar]
license: mit
---
# Zanzibar test adapter

A rank-4 adapter for the **e2e** suite.

| layer | rank |
|---|---|
| all | 4 |

<script>window.__cardRan = "script"</script>
<img src="missing-image.png" onerror="window.__cardRan = 'onerror'">
<p onclick="window.__cardRan = 'onclick'">click me</p>
<a href="javascript:window.__cardRan='html-link'">html link</a>

[markdown link](javascript:window.__cardRan='md-link')
`;

/** PEFT folders for a fixture base, written to a temp folder: one that fits, one off by a column. */
export function peftFolders(
  base = "gpt2-tiny",
  seed = 11,
): { good: string; bad: string; goodFiles: Record<string, Uint8Array>; firstModule: string; remove(): void } {
  const folder = { "gpt2-tiny": "hf-gpt2-tiny", "gpt2-lmhead-tiny": "hf-gpt2-lmhead-tiny" }[base] ?? base;
  const root = findRepoRoot();
  const config = JSON.parse(readFileSync(join(root, "fixtures", folder, "config.json"), "utf8")) as HfConfig;
  const manifest = manifestFromConfig(config);
  const dir = mkdtempSync(join(tmpdir(), "lowrank-web-e2e-"));
  const write = (name: string, files: Record<string, Uint8Array>) => {
    const out = join(dir, name);
    mkdirSync(out);
    for (const [path, data] of Object.entries(files)) writeFileSync(join(out, path), data);
    return out;
  };
  const modules = Object.keys(manifest.modules).filter(
    (n) => manifest.modules[n]?.layout !== "embedding" && !manifest.modules[n]?.tiedTo,
  );
  const goodFiles = peftFilesFor(manifest, { r: 4, seed, readme: HOSTILE_CARD, modules });
  const good = write("good", goodFiles);
  const bad = write("bad", peftFilesFor(manifest, { r: 4, seed: seed + 1, shapeOff: true, modules }));
  return {
    good,
    bad,
    goodFiles,
    firstModule: modules[0] ?? "",
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * Collects what should never happen on a page into `problems`: uncaught errors, console errors, and
 * HTTP errors other than those `expectedFailure` allows (the hostile card's missing image is always
 * allowed: it points at a missing file on purpose, and its onerror must not run).
 */
export function watchPage(page: Page, problems: string[], expectedFailure: (path: string) => boolean = () => false) {
  page.on("pageerror", (error) => problems.push(`pageerror: ${error.message}`));
  page.on("console", (m) => {
    // A failed request is reported below with its URL.
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource"))
      problems.push(`console.error: ${m.text()}`);
  });
  page.on("response", (r) => {
    const path = new URL(r.url()).pathname;
    if (r.status() >= 400 && !path.endsWith("/missing-image.png") && !expectedFailure(path))
      problems.push(`HTTP ${r.status()}: ${r.url()}`);
  });
}
