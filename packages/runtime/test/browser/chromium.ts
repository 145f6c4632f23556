import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** Chromium flags for headless WebGPU on a machine without a GPU (SwiftShader's Vulkan). */
export const WEBGPU_FLAGS = [
  "--enable-unsafe-webgpu",
  "--enable-features=Vulkan",
  "--use-angle=swiftshader",
  "--no-sandbox",
  "--disable-dev-shm-usage",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
];

/** Bundle `page.ts` (and @lowrank/core from source) into one ES module for the page. */
export async function bundlePage(): Promise<string> {
  const { build } = await import("vite");
  const here = path.dirname(fileURLToPath(import.meta.url));
  const out = (await build({
    configFile: false,
    logLevel: "warn",
    root: here,
    resolve: { conditions: ["@lowrank/source", "browser", "module", "import", "default"] },
    build: {
      write: false,
      minify: false,
      sourcemap: false,
      lib: { entry: path.join(here, "page.ts"), formats: ["es"], fileName: "page" },
    },
  })) as
    | Array<{ output: Array<{ type: string; code?: string; fileName: string }> }>
    | { output: Array<{ type: string; code?: string; fileName: string }> };
  const outputs = (Array.isArray(out) ? out : [out]).flatMap((o) => o.output);
  const chunk = outputs.find((o) => o.type === "chunk" && o.code);
  if (!chunk?.code)
    throw new Error(`vite produced no JavaScript chunk (found ${outputs.map((o) => o.fileName).join(", ")})`);
  return chunk.code;
}

/** A static server on 127.0.0.1 (a secure context, unlike about:blank) for the page and its bundle. */
export async function servePage(bundle: string): Promise<{ url: string; server: Server }> {
  const html =
    '<!doctype html><meta charset="utf-8"><title>lowrank webgpu conformance</title><script type="module" src="/page.js"></script>';
  const server = createServer((req, res) => {
    const headers = { "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp" };
    if (req.url === "/page.js") res.writeHead(200, { ...headers, "Content-Type": "text/javascript" }).end(bundle);
    else if (req.url === "/" || req.url === "/index.html")
      res.writeHead(200, { ...headers, "Content-Type": "text/html" }).end(html);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, server };
}

export function chromiumMissingReason(): string | undefined {
  return existsSync(CHROMIUM)
    ? undefined
    : `no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`;
}

export function freshProfile(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), "lowrank-chromium-"));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
