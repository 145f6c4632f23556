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
 *
 * Start-up can otherwise wait forever: Emscripten starts a pool of 8 workers and resolves the module
 * only when every one has posted `loaded`; it listens for `message` and `error` but not `exit`, and
 * tfjs puts no time limit on it. So (a) each script is written once, under a name derived from its
 * text, through a temporary file and a rename: a worker never reads a file that is being rewritten
 * (the old code rewrote one path for each of the 8 workers while earlier workers could be reading it,
 * and a worker that reads an empty script exits with code 0 without a word), and (b) a worker that
 * errors or exits before start-up has settled rejects {@link WasmThreadsPatch.failure} (its error is
 * not rethrown by Emscripten's handler then, which would crash the process).
 */
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import workerThreads from "node:worker_threads";
import { RuntimeError } from "./errors.js";

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

/** Writes `text` to `<folder>/<stem>-<digest>.cjs` unless already there, atomically; returns the path. */
export function writeScriptOnce(folder: string, stem: string, text: string): string {
  const digest = createHash("sha256").update(text).digest("hex").slice(0, 16);
  const file = path.join(folder, `${stem}-${digest}.cjs`);
  if (existsSync(file)) return file;
  const tmp = `${file}.${process.pid}.${workerThreads.threadId}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
  return file;
}

export interface WasmThreadsPatch {
  /** Undo the patches; call once `tf.setBackend('wasm')` has settled (it also stops watching the workers). */
  restore: () => void;
  /**
   * Rejects with a `BackendInitFailed` {@link RuntimeError} when a worker created while patched errors or
   * exits before {@link restore}; never resolves.
   */
  failure: Promise<never>;
  /** Terminates the workers created while patched (after a failed or abandoned start). */
  terminateWorkers: () => Promise<void>;
}

/** Install the workarounds for a start with `threads` threads. */
export function patchNodeForWasmThreads(threads: number): WasmThreadsPatch {
  const folder = scratchDir();
  let mainFile = "";
  const texts = new WeakMap<Blob, string>();
  const workers: InstanceType<typeof workerThreads.Worker>[] = [];
  let watching = true;
  let fail: (error: RuntimeError) => void = () => {};
  const failure = new Promise<never>((_, reject) => {
    fail = reject;
  });
  failure.catch(() => {}); // observed by whoever races it; never an unhandled rejection
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
        if (options?.type === "text/javascript")
          mainFile = writeScriptOnce(folder, "tfjs-backend-wasm-main", FACTORY_PRELUDE + text);
      }
    }
  };
  URL.createObjectURL = (blob: Blob) => {
    const text = texts.get(blob);
    if (text === undefined) return originalCreateObjectURL(blob);
    // The worker receives the main script as a Blob and would import it through a blob: URL: redirect.
    const redirect = `\nconst lowrankImport = global.importScripts;\nglobal.importScripts = (f) => lowrankImport(String(f).startsWith("blob:") ? ${JSON.stringify(mainFile)} : f);\n`;
    return writeScriptOnce(folder, "tfjs-backend-wasm-worker", text + redirect);
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
      workers.push(this);
      const index = workers.length;
      this.once("error", (error: Error) => {
        if (watching)
          fail(
            new RuntimeError(
              "BackendInitFailed",
              `wasm threads: expected pthread worker ${index} to start, found an error: ${error.message}`,
              { cause: error },
            ),
          );
      });
      this.once("exit", (code: number) => {
        if (watching)
          fail(
            new RuntimeError(
              "BackendInitFailed",
              `wasm threads: expected pthread worker ${index} to start and stay, found it exited with code ${code} during start-up`,
            ),
          );
      });
      // Emscripten's `onerror` rethrows, which would crash the process; during start-up the error is
      // reported through `failure` instead, and afterwards it goes to Emscripten's handler as before.
      let onerror: ((e: unknown) => void) | undefined;
      Object.defineProperty(this, "onerror", {
        configurable: true,
        get: () => (e: unknown) => {
          if (!watching) onerror?.(e);
        },
        set: (handler: (e: unknown) => void) => {
          onerror = handler;
        },
      });
    }
    override ref(): void {}
  };

  return {
    restore: () => {
      watching = false;
      globalThis.Blob = OriginalBlob;
      URL.createObjectURL = originalCreateObjectURL;
      os.cpus = originalCpus;
      (workerThreads as { Worker: unknown }).Worker = OriginalWorker;
    },
    failure,
    terminateWorkers: async () => {
      watching = false;
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}
