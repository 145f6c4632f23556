/**
 * Multi-threaded tfjs wasm in Node. tfjs 4.22 turns threads off in Node for three reasons, each worked
 * around here only for the duration of `tf.setBackend('wasm')`:
 * 1. the flag WASM_HAS_MULTITHREAD_SUPPORT returns false when IS_NODE: it is overridden to true;
 * 2. Emscripten's pthread worker script and main script are handed over as `blob:` URLs / Blobs, which
 *    Node's worker_threads cannot load: the two Blobs' texts are captured as tfjs creates them and written
 *    to real `.cjs` files (the main script prefixed with the bundle-level names its factory closes over),
 *    and the worker is pointed at those files;
 * 3. tfjs's wasm side sizes XNNPACK's pool from Emscripten's core count (`os.cpus().length` in Node) and
 *    keeps it at half of that: `os.cpus` reports at least 2 × threads while the module starts.
 * Workers are created unref'd (and never re-ref'd) so an idle thread pool does not keep Node alive.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import workerThreads from "node:worker_threads";

// Names the threaded factory's source refers to outside itself in tf-backend-wasm.node.js (rollup's
// names for its requires and for the global object).
const FACTORY_PRELUDE =
  'var require$$0 = require("fs"), require$$1 = require("path"), require$$3 = require("perf_hooks"), require$$4 = require("os"), commonjsGlobal = globalThis;\n';

let dir: string | undefined;
function scratchDir(): string {
  if (!dir) {
    const created = mkdtempSync(path.join(os.tmpdir(), "lowrank-wasm-threads-"));
    dir = created;
    process.once("exit", () => rmSync(created, { recursive: true, force: true }));
  }
  return dir;
}

/** Install the workarounds; call the returned function once `tf.setBackend('wasm')` has settled. */
export function patchNodeForWasmThreads(threads: number): () => void {
  const folder = scratchDir();
  const mainFile = path.join(folder, "tfjs-backend-wasm-main.cjs");
  const workerFile = path.join(folder, "tfjs-backend-wasm-worker.cjs");
  const texts = new WeakMap<Blob, string>();
  const OriginalBlob = globalThis.Blob;
  const originalCreateObjectURL = URL.createObjectURL;
  const originalCpus = os.cpus;
  const OriginalWorker = workerThreads.Worker;

  globalThis.Blob = class CapturingBlob extends OriginalBlob {
    constructor(parts?: BlobPart[], options?: BlobPropertyBag) {
      super(parts, options);
      if (parts?.every((p) => typeof p === "string")) {
        const text = parts.join("");
        texts.set(this, text);
        if (options?.type === "text/javascript") writeFileSync(mainFile, FACTORY_PRELUDE + text);
      }
    }
  };
  URL.createObjectURL = (blob: Blob) => {
    const text = texts.get(blob);
    if (text === undefined) return originalCreateObjectURL(blob);
    // The worker receives the main script as a Blob and would import it through a blob: URL: redirect.
    const redirect = `\nconst lowrankImport = global.importScripts;\nglobal.importScripts = (f) => lowrankImport(String(f).startsWith("blob:") ? ${JSON.stringify(mainFile)} : f);\n`;
    writeFileSync(workerFile, text + redirect);
    return workerFile;
  };
  os.cpus = () => {
    const cpus = originalCpus();
    while (cpus.length > 0 && cpus.length < 2 * threads) cpus.push(cpus[0] as os.CpuInfo);
    return cpus;
  };
  (workerThreads as { Worker: unknown }).Worker = class UnrefWorker extends OriginalWorker {
    constructor(...args: ConstructorParameters<typeof OriginalWorker>) {
      super(...args);
      this.unref();
    }
    override ref(): void {}
  };

  return () => {
    globalThis.Blob = OriginalBlob;
    URL.createObjectURL = originalCreateObjectURL;
    os.cpus = originalCpus;
    (workerThreads as { Worker: unknown }).Worker = OriginalWorker;
  };
}
