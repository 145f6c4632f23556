import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { adapters, createDb } from "@lowrank/db";
import { chromiumMissingReason, launchChromium } from "@lowrank/test-services/chromium";
import { postgresMissingReason, type RunningPostgres, startPostgres } from "@lowrank/test-services/postgres";
import { skipWithoutService, titleWithReason } from "@lowrank/test-services/skip";
import type { Browser, Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildHub, type HubBuild } from "./buildHub.js";
import { pagesSuite } from "./pagesSuite.js";
import type { GroupProcess } from "./processGroup.js";
import { type RunningHub, startHub } from "./startHub.js";

// The whole hub as a user meets it: `next build`, `next start`, a real browser running the client
// bundle, the client-side tRPC + React Query call, and the database behind it (PGlite, then PostgreSQL).

const chromiumMissing = chromiumMissingReason();
const postgresMissing = postgresMissingReason();
const VIEWPORT = { width: 1280, height: 800 };
/** Screenshots stay here after the run, for people to look at. */
const SCREENSHOT_DIR = join(tmpdir(), "lowrank-hub-e2e");

/** A page that records every uncaught error and console error, so a test can assert there were none. */
async function openPage(browser: Browser): Promise<{ page: Page; problems: string[] }> {
  const context = await browser.newContext({ viewport: VIEWPORT });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on("pageerror", (error) => problems.push(`pageerror: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console.error: ${message.text()}`);
  });
  page.on("response", (response) => {
    if (response.status() >= 400) problems.push(`HTTP ${response.status()}: ${response.url()}`);
  });
  return { page, problems };
}

const isHealthCall = (url: string) => new URL(url).pathname === "/api/trpc/health";

/** Load the home page and wait for the status card that the client-side health query renders. */
async function loadHealth(page: Page, hub: RunningHub): Promise<{ card: Locator; rows: Record<string, string> }> {
  const response = page.waitForResponse((r) => isHealthCall(r.url()));
  await page.goto(hub.url);
  expect((await response).status()).toBe(200);
  const card = page.getByRole("region", { name: "Hub status" });
  await card.waitFor({ state: "visible", timeout: 30_000 });
  const rows = await card.locator("dl").evaluate((dl) => {
    const out: Record<string, string> = {};
    for (const dt of Array.from(dl.querySelectorAll("dt"))) {
      out[dt.textContent ?? ""] = dt.nextElementSibling?.textContent ?? "";
    }
    return out;
  });
  return { card, rows };
}

/** Width and height from a PNG's IHDR chunk; throws unless the bytes start like a PNG. */
function pngSize(bytes: Buffer): { width: number; height: number } {
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  expect(bytes.subarray(0, 8).equals(signature)).toBe(true);
  expect(bytes.toString("latin1", 12, 16)).toBe("IHDR");
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

describe.skipIf(skipWithoutService(chromiumMissing))(
  titleWithReason("hub end to end: next build, next start, headless Chromium", chromiumMissing),
  () => {
    const started: GroupProcess[] = [];
    const track = (process: GroupProcess) => started.push(process);
    const folders: string[] = [];
    let browser: Browser | undefined;
    let build: HubBuild | undefined;

    beforeAll(async () => {
      // Chromium first: under CI=true a missing browser fails here, before a 10-20 s build.
      browser = await launchChromium({ webgpu: true });
      mkdirSync(SCREENSHOT_DIR, { recursive: true });
      build = await buildHub(track);
    }, 600_000); // next build takes ~1-3 min alone; far longer when the machine is shared

    afterAll(async () => {
      await browser?.close();
      await Promise.all(started.map((process) => process.stop()));
      build?.remove();
      for (const folder of folders) rmSync(folder, { recursive: true, force: true });
    });

    function tempFolder(prefix: string): string {
      const folder = mkdtempSync(join(tmpdir(), prefix));
      folders.push(folder);
      return folder;
    }

    it("renders the embedded PGlite database that the client-side health query reports", async () => {
      if (!browser || !build) throw new Error("expected the beforeAll hook to build the hub and launch Chromium");
      const dataDir = tempFolder("lowrank-hub-e2e-data-");
      const hub = await startHub(build.dir, { dataDir }, track);

      // The server sends the static shell; the status comes only from the browser's tRPC call.
      const html = await (await fetch(hub.url)).text();
      expect(html).toContain("<title>lowrank hub</title>");
      expect(html).toContain("Checking the database");
      expect(html).not.toContain("Healthy.");

      const { page, problems } = await openPage(browser);
      const { card, rows } = await loadHealth(page, hub);
      expect(await page.title()).toBe("lowrank hub");
      // biome-ignore lint/performance/useDomNodeTextContent: Playwright's innerText() is the rendered text a user reads
      expect(await page.getByRole("heading", { level: 1 }).innerText()).toBe("lowrank hub");
      // biome-ignore lint/performance/useDomNodeTextContent: Playwright's innerText() is the rendered text a user reads
      expect(await card.locator("p").first().innerText()).toBe("Healthy. Using embedded PGlite.");
      // Any visitor sees the kind of database, not the data folder or the server's build.
      expect(Object.keys(rows)).toEqual(["Checked"]);
      expect(await page.content()).not.toContain(dataDir);
      expect(await page.content()).not.toMatch(/PostgreSQL \d|PGlite \d/);

      // "Check again" makes a second round trip and the card comes back.
      const again = page.waitForResponse((r) => isHealthCall(r.url()));
      await card.getByRole("button", { name: "Check again" }).click();
      expect((await again).status()).toBe(200);
      await card.getByRole("button", { name: "Check again" }).waitFor();

      const path = join(SCREENSHOT_DIR, "home-pglite.png");
      await page.screenshot({ path });
      const png = readFileSync(path);
      expect(pngSize(png)).toEqual(VIEWPORT);
      // Reference: the same viewport with nothing on it compresses to far fewer bytes than a page with text.
      await page.setContent("<html><body></body></html>");
      const blank = await page.screenshot();
      expect(pngSize(blank)).toEqual(VIEWPORT);
      expect(png.length).toBeGreaterThan(2 * blank.length);

      expect(problems).toEqual([]);
      await page.context().close();

      // The production build serves the hub's back end: demo content from the first start, the
      // Hugging Face routes, uploads with auth, and inference in the server process.
      const models = (await (await fetch(`${hub.url}/api/models?search=tigrinya`)).json()) as { id: string }[];
      expect(models.map((m) => m.id)).toEqual(["lowrank/gpt2-tigrinya-lora"]);
      const head = await fetch(`${hub.url}/lowrank/gpt2-tigrinya-lora/resolve/main/adapter_config.json`, {
        method: "HEAD",
      });
      expect(head.status).toBe(200);
      expect(head.headers.get("x-repo-commit")).toMatch(/^[0-9a-f]{40}$/);
      expect(head.headers.get("x-linked-etag")).toMatch(/^"[0-9a-f]{64}"$/);
      const ranged = await fetch(`${hub.url}/lowrank/gpt2-tigrinya-lora/resolve/main/adapter_config.json`, {
        headers: { range: "bytes=0-0" },
      });
      expect(ranged.status).toBe(206);
      expect(await ranged.text()).toBe("{");
      expect((await fetch(`${hub.url}/api/uploads`, { method: "PUT", body: "x" })).status).toBe(401);
      const run = await fetch(`${hub.url}/api/trpc/inference.run`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          json: { base: "gpt2-lmhead-tiny", adapters: [{ ref: "lowrank/gpt2-lmhead-tiny-demo" }], inputIds: [1, 2, 3] },
        }),
      });
      expect(run.status, await run.clone().text()).toBe(200);
      const result = (await run.json()) as { result: { data: { json: { shape: number[]; output: number[] } } } };
      expect(result.result.data.json.shape[0]).toBe(3);
      await hub.process.stop();
    });

    pagesSuite({
      browser: () => {
        if (!browser) throw new Error("expected the beforeAll hook to launch Chromium");
        return browser;
      },
      build: () => {
        if (!build) throw new Error("expected the beforeAll hook to build the hub");
        return build;
      },
      tempFolder,
      track,
    });

    describe.skipIf(skipWithoutService(postgresMissing))(titleWithReason("with DATABASE_URL", postgresMissing), () => {
      let postgres: RunningPostgres | undefined;
      let hub: RunningHub | undefined;

      beforeAll(async () => {
        postgres = await startPostgres();
      });

      afterAll(async () => {
        await hub?.process.stop();
        await postgres?.stop();
      });

      it("renders PostgreSQL when the same build starts with DATABASE_URL", async () => {
        if (!browser || !build || !postgres)
          throw new Error("expected the hooks to start Chromium, the build and PostgreSQL");
        hub = await startHub(build.dir, { databaseUrl: postgres.url }, track);
        const { page, problems } = await openPage(browser);
        const { card, rows } = await loadHealth(page, hub);
        // biome-ignore lint/performance/useDomNodeTextContent: Playwright's innerText() is the rendered text a user reads
        expect(await card.locator("p").first().innerText()).toBe("Healthy. Using PostgreSQL.");
        expect(Object.keys(rows)).toEqual(["Checked"]);
        expect(await page.content()).not.toContain(postgres.url);
        await page.screenshot({ path: join(SCREENSHOT_DIR, "home-postgres.png") });
        expect(problems).toEqual([]);
        await page.context().close();

        // The hub migrated the real server on first use and registered the demo adapters.
        const handle = await createDb({ url: postgres.url });
        try {
          const names = (await handle.db.select({ owner: adapters.owner, name: adapters.name }).from(adapters)).map(
            (a) => `${a.owner}/${a.name}`,
          );
          expect(names).toContain("lowrank/gpt2-tigrinya-lora");
        } finally {
          await handle.close();
        }
      });
    });
  },
);
