import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { peftFilesFor } from "@lowrank/api/testing";
import { findRepoRoot } from "@lowrank/db";
import { type HfConfig, manifestFromConfig, peftToGgufLora, readPeftAdapter, toFloat32 } from "@lowrank/formats";
import type { Browser, Locator, Page } from "playwright-core";
import { afterAll, expect, it } from "vitest";
import type { RunningHub } from "./startHub.js";
import { checkPage, peftFolders, sha256, watchPage } from "./webPages.js";

const USER = { email: "grace@example.com", username: "grace", password: "another horse battery" };

/** GGUF LoRAs (llama.cpp's format) for the tiny GPT-2 in `dir`: one that fits, one off by a column. */
function ggufFiles(dir: string): {
  good: string;
  bad: string;
  goodBytes: Uint8Array;
  peft: Record<string, Uint8Array>;
} {
  const config = JSON.parse(
    readFileSync(join(findRepoRoot(), "fixtures", "hf-gpt2-tiny", "config.json"), "utf8"),
  ) as HfConfig;
  const manifest = manifestFromConfig(config);
  const modules = Object.keys(manifest.modules).filter(
    (n) => manifest.modules[n]?.layout !== "embedding" && !manifest.modules[n]?.tiedTo,
  );
  const peft = peftFilesFor(manifest, { r: 4, seed: 21, modules });
  const gguf = (files: Record<string, Uint8Array>) =>
    peftToGgufLora(readPeftAdapter(files).adapter, { architecture: "gpt2" }).bytes;
  const goodBytes = gguf(peft);
  const good = join(dir, "fits.gguf");
  const bad = join(dir, "wider.gguf");
  writeFileSync(good, goodBytes);
  writeFileSync(bad, gguf(peftFilesFor(manifest, { r: 4, seed: 22, modules, shapeOff: true })));
  return { good, bad, goodBytes, peft };
}

/**
 * A real drop, as the OS delivers it: Chromium's `Input.dispatchDragEvent` with file paths, so the
 * page sees `DataTransferItem`s whose `webkitGetAsEntry()` is a directory for a dropped folder
 * (a `DataTransfer` built by script cannot hold a folder).
 */
async function dropPaths(page: Page, target: Locator, paths: string[]): Promise<void> {
  // Coordinates are the viewport's: the form is taller than the window, so bring the target into view.
  await target.scrollIntoViewIfNeeded();
  const box = await target.boundingBox();
  if (!box) throw new Error("expected the drop zone to be visible");
  const at = { x: box.x + box.width / 2, y: box.y + box.height / 2 };
  const cdp = await page.context().newCDPSession(page);
  try {
    const data = { items: [], files: paths, dragOperationsMask: 1 };
    for (const type of ["dragEnter", "dragOver", "drop"] as const)
      await cdp.send("Input.dispatchDragEvent", { type, ...at, data });
  } finally {
    await cdp.detach();
  }
}

/**
 * Account and publish steps with their own browser context and user (so they do not depend on the
 * other steps' order): sign out and in again, a GGUF LoRA checked in the browser before upload, and a
 * PEFT folder dropped on the publish form.
 */
export function accountSteps(env: {
  browser: () => Browser;
  hub: () => RunningHub;
  tempFolder: (p: string) => string;
}) {
  let page: Page | undefined;
  const problems: string[] = [];
  /** Requests that answer 4xx on purpose in these steps (a wrong password). */
  const expected = new Set<string>();

  /** The steps' page, signed up as grace on first use; signed in again if a step left it signed out. */
  async function signedIn(): Promise<Page> {
    const hub = env.hub();
    if (!page) {
      const context = await env.browser().newContext({ viewport: { width: 1280, height: 800 } });
      page = await context.newPage();
      // The dropped folder's README is a hostile card too; the expected refusals are allowed.
      watchPage(page, problems, (path) => expected.has(path));
      await page.goto(`${hub.url}/signup`);
      await page.getByLabel("Email").fill(USER.email);
      await page.getByLabel("Username").fill(USER.username);
      await page.getByLabel("Password").fill(USER.password);
      await page.getByRole("button", { name: "Create account" }).click();
      await page.waitForURL(`${hub.url}/account`);
    }
    await page.goto(`${hub.url}/account`);
    if (new URL(page.url()).pathname === "/signin") {
      await page.getByLabel("Email").fill(USER.email);
      await page.getByLabel("Password").fill(USER.password);
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.waitForURL(`${hub.url}/account`);
    }
    await page.getByRole("heading", { level: 1, name: USER.username }).waitFor();
    return page;
  }

  it("sign out: tokens and publishing are refused; a wrong password says so; signing in again restores them", async () => {
    const hub = env.hub();
    const p = await signedIn();
    // The tRPC call as this browser makes it (with its cookies).
    const tokensStatus = async () => (await p.request.get(`${hub.url}/api/trpc/tokens.list`)).status();
    expect(await tokensStatus()).toBe(200);

    await p.getByRole("button", { name: "Sign out" }).click();
    await p.waitForURL(`${hub.url}/`);
    expect((await p.context().cookies()).map((c) => c.name).filter((n) => n.includes("session_token"))).toEqual([]);
    expect(await tokensStatus()).toBe(401);
    const upload = await p.request.put(`${hub.url}/api/uploads`, { data: Buffer.from("x") });
    expect(upload.status()).toBe(401);
    // The account page (tokens) sends a signed-out visitor to sign in; publish offers sign-in, not the form.
    await p.goto(`${hub.url}/account`);
    await p.waitForURL(`${hub.url}/signin`);
    await p.goto(`${hub.url}/publish`);
    expect(await p.getByRole("main").getByRole("link", { name: "Sign in" }).count()).toBe(1);
    expect(await p.getByRole("button", { name: "Upload and publish" }).count()).toBe(0);
    expect(await p.getByLabel("Or choose files").count()).toBe(0);

    await p.goto(`${hub.url}/signin`);
    expected.add("/api/auth/sign-in/email");
    await p.getByLabel("Email").fill(USER.email);
    await p.getByLabel("Password").fill("not the password");
    await p.getByRole("button", { name: "Sign in" }).click();
    const alert = p.locator("#auth-error");
    await alert.waitFor();
    expect(await alert.getAttribute("role")).toBe("alert");
    expect(await alert.textContent()).toBe("Invalid email or password");
    expect(new URL(p.url()).pathname).toBe("/signin");
    expect(await tokensStatus()).toBe(401);
    await checkPage(p, "signin-wrong-password");
    expected.delete("/api/auth/sign-in/email");

    await p.getByLabel("Password").fill(USER.password);
    await p.getByRole("button", { name: "Sign in" }).click();
    await p.waitForURL(`${hub.url}/account`);
    await p.getByRole("heading", { level: 1, name: USER.username }).waitFor();
    await p.getByText("No tokens yet.").waitFor();
    expect(await tokensStatus()).toBe(200);
    await p.goto(`${hub.url}/publish`);
    await p.getByRole("button", { name: "Upload and publish" }).waitFor();
    expect(problems).toEqual([]);
  }, 120_000);

  it("publish: a GGUF LoRA for a wider base is refused in the browser naming the layer; one that fits is converted by the hub", async () => {
    const hub = env.hub();
    const p = await signedIn();
    const files = ggufFiles(env.tempFolder("lowrank-web-e2e-gguf-"));
    await p.goto(`${hub.url}/publish`);
    await p.getByLabel("Base model").selectOption("gpt2-tiny");
    await p.getByLabel("Name").fill("gguf-lora");
    await p.getByLabel("Description").fill("A GGUF LoRA published through the form");

    await p.getByLabel("Or choose files").setInputFiles(files.bad);
    const refused = p.getByTestId("check-failed");
    await refused.waitFor();
    const layer = refused.getByRole("row").filter({ hasText: "h.0.attn.c_attn" });
    expect(await layer.textContent()).toMatch(/expected lora_A \[4,2\].*found \[4,3\]/);
    expect(await p.getByRole("button", { name: "Upload and publish" }).isDisabled()).toBe(true);
    await checkPage(p, "publish-gguf-mismatch");

    await p.getByLabel("Or choose files").setInputFiles(files.good);
    const ok = p.getByTestId("check-ok");
    await ok.waitFor();
    expect(await ok.textContent()).toMatch(/4 modules, r=4, gguf/);
    await p.getByRole("button", { name: "Upload and publish" }).click();
    await p.waitForURL(`${hub.url}/${USER.username}/gguf-lora`, { timeout: 60_000 });

    // The hub kept the .gguf as uploaded and serves the PEFT files it converted, with the same tensors.
    const repo = `${hub.url}/${USER.username}/gguf-lora`;
    const info = (await (await fetch(`${hub.url}/api/models/${USER.username}/gguf-lora`)).json()) as {
      siblings: { rfilename: string }[];
    };
    expect(info.siblings.map((s) => s.rfilename).sort()).toEqual(
      ["README.md", "adapter_config.json", "adapter_model.safetensors", "fits.gguf"].sort(),
    );
    const fetchFile = async (f: string) =>
      new Uint8Array(await (await fetch(`${repo}/resolve/main/${f}`)).arrayBuffer());
    expect(sha256(await fetchFile("fits.gguf"))).toBe(sha256(files.goodBytes));
    const served = readPeftAdapter({
      "adapter_config.json": await fetchFile("adapter_config.json"),
      "adapter_model.safetensors": await fetchFile("adapter_model.safetensors"),
    }).adapter;
    const source = readPeftAdapter(files.peft).adapter;
    expect(Object.keys(served.modules).sort()).toEqual(Object.keys(source.modules).sort());
    for (const [name, w] of Object.entries(source.modules)) {
      const got = served.modules[name];
      if (!got) throw new Error(`expected ${name} in the converted adapter`);
      expect(got.A.shape, `${name} A`).toEqual(w.A.shape);
      expect(Array.from(toFloat32(got.A)), `${name} A`).toEqual(Array.from(toFloat32(w.A)));
      expect(Array.from(toFloat32(got.B)), `${name} B`).toEqual(Array.from(toFloat32(w.B)));
    }
    const found = await (await fetch(`${hub.url}/search?format=gguf`)).text();
    expect(found).toContain(`href="/${USER.username}/gguf-lora"`);
    expect(problems).toEqual([]);
  }, 120_000);

  it("publish: a PEFT folder dropped on the form is listed and checked (refused when off by a column, then accepted)", async () => {
    const hub = env.hub();
    const p = await signedIn();
    const folders = peftFolders("gpt2-tiny", 31);
    try {
      await p.goto(`${hub.url}/publish`);
      await p.getByLabel("Base model").selectOption("gpt2-tiny");
      await p.getByLabel("Name").fill("dropped-lora");
      // The zone's text, not its file input (a drop on an <input type=file> is the input's own).
      const zone = p.locator(".dropzone > p");
      const listed = () =>
        p
          .getByRole("region", { name: "Check against gpt2-tiny" })
          .locator("ul")
          .first()
          .locator("li")
          .allTextContents();

      await dropPaths(p, zone, [folders.bad]);
      await p.getByTestId("check-failed").waitFor();
      expect(await p.getByTestId("check-failed").textContent()).toContain(folders.firstModule);
      expect((await listed()).map((l) => l.split(" ")[0])).toEqual([
        "adapter_config.json",
        "adapter_model.safetensors",
      ]);

      // The good folder also holds a README.md (the card) and a dot file the form leaves out.
      writeFileSync(join(folders.good, ".DS_Store"), "junk");
      await dropPaths(p, zone, [folders.good]);
      await p.getByTestId("check-ok").waitFor();
      expect((await listed()).map((l) => l.split(" ")[0])).toEqual([
        "README.md",
        "adapter_config.json",
        "adapter_model.safetensors",
      ]);
      await p.getByRole("button", { name: "Upload and publish" }).click();
      await p.waitForURL(`${hub.url}/${USER.username}/dropped-lora`, { timeout: 60_000 });
      const link = p.getByRole("link", { name: "Download adapter_model.safetensors" });
      expect(await link.getAttribute("data-sha256")).toBe(
        sha256(folders.goodFiles["adapter_model.safetensors"] as Uint8Array),
      );
    } finally {
      folders.remove();
    }
    expect(problems).toEqual([]);
  }, 120_000);

  afterAll(async () => {
    await page?.context().close();
  });
}
