import * as tf from "@tensorflow/tfjs-core";
import { RuntimeError } from "./errors.js";
import type { InitBackendOptions } from "./initBackend.js";

const isNode = typeof process !== "undefined" && typeof process.versions?.node === "string";

export interface WasmSetup {
  simd: boolean;
  /** Threads asked for. */
  threads: number;
  /** Undo the temporary Node patches (threads); call after `tf.setBackend('wasm')` settled. */
  restore: () => void;
  /** Node threads: rejects when a pthread worker errors or exits during start-up. */
  failure?: Promise<never>;
  /** After a failed or abandoned start: stop the start-up workers and drop the half-made backend. */
  abandon: () => Promise<void>;
  /** Threads XNNPACK really uses, read from the backend once it is initialized. */
  actualThreads: () => number;
}

/**
 * Parse a thread count as people type it (`LOWRANK_WASM_THREADS`, `--threads`): a positive integer, or
 * `auto` for the machine's cores. Anything else is an `InvalidArgument` error naming the source.
 */
export function parseThreads(value: string, source: string): number | true {
  const v = value.trim().toLowerCase();
  if (v === "auto") return true;
  if (/^[1-9][0-9]{0,2}$/.test(v)) return Number(v);
  throw new RuntimeError(
    "InvalidArgument",
    `${source}: expected a thread count from 1 to 999 or "auto", found ${JSON.stringify(value)}`,
  );
}

/**
 * Threads asked for: `true` = the machine's cores, a number as given; when not given, the
 * `LOWRANK_WASM_THREADS` environment variable (Node), else 1.
 */
export async function requestedWasmThreads(options: InitBackendOptions): Promise<number> {
  let t = options.threads;
  const env = isNode ? process.env.LOWRANK_WASM_THREADS : undefined;
  if (t === undefined && env) t = parseThreads(env, "LOWRANK_WASM_THREADS");
  return Math.max(1, Math.floor(t === true ? await hardwareThreads() : typeof t === "number" ? t : 1));
}

/**
 * Configure the wasm backend's binary location and thread count before `tf.setBackend('wasm')`.
 * Threads in Node go through the workarounds in wasm-threads.ts (tfjs disables them there).
 * If a wasm backend with another thread count already exists it is re-created.
 */
export async function initWasm(options: InitBackendOptions, notes: string[]): Promise<WasmSetup> {
  const wasm = await import("@tensorflow/tfjs-backend-wasm");
  const paths = options.wasmPaths ?? (isNode ? await nodeWasmDir() : undefined);
  if (paths) wasm.setWasmPaths(paths.endsWith("/") ? paths : `${paths}/`);
  const wantThreads = await requestedWasmThreads(options);
  let patch: import("./wasm-threads.js").WasmThreadsPatch | undefined;
  if (isNode) {
    tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", wantThreads > 1);
    if (wantThreads > 1) patch = (await import("./wasm-threads.js")).patchNodeForWasmThreads(wantThreads);
  }
  wasm.setThreadsCount(wantThreads);
  const threadsSupported = Boolean(await tf.env().getAsync("WASM_HAS_MULTITHREAD_SUPPORT"));
  if (wantThreads > 1 && !threadsSupported)
    notes.push("this engine cannot run wasm threads (no SharedArrayBuffer or cross-origin isolation): using 1 thread");
  recreateIfInitialized(wantThreads, wasm.getThreadsCount);
  const simd = Boolean(await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT"));
  if (!simd) notes.push("this engine has no wasm SIMD: the plain binary is used (several times slower)");
  // The backend itself is created lazily by setBackend('wasm').
  return {
    simd,
    threads: wantThreads,
    restore: patch?.restore ?? (() => {}),
    ...(patch ? { failure: patch.failure } : {}),
    abandon: async () => {
      await patch?.terminateWorkers();
      reregisterWasm();
    },
    actualThreads: () => (threadsSupported ? wasm.getThreadsCount() : 1),
  };
}

/** Default limit on a wasm backend start (a threaded start took up to about 5 s on a loaded 2-core machine). */
export const WASM_START_TIMEOUT_MS = 30_000;

/**
 * Runs `set` (which calls `tf.setBackend('wasm')`) within `timeoutMs`, and fails at once when a thread
 * worker dies during start-up. On failure the start is abandoned (workers terminated, the half-made
 * backend dropped), so a later call starts afresh; the error is a {@link RuntimeError} with code
 * `BackendInitTimeout` or `BackendInitFailed`.
 */
export async function startWasm(setup: WasmSetup, set: () => Promise<void>, timeoutMs: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new RuntimeError(
            "BackendInitTimeout",
            `wasm backend (${setup.threads} thread${setup.threads === 1 ? "" : "s"}): expected it to start within ${timeoutMs} ms, found it still starting; it was abandoned (call initBackend again, or use 1 thread)`,
          ),
        ),
      timeoutMs,
    );
  });
  try {
    await Promise.race([set(), limit, ...(setup.failure ? [setup.failure] : [])]);
  } catch (error) {
    await setup.abandon();
    throw error;
  } finally {
    clearTimeout(timer);
    setup.restore();
  }
}

/** Drops the wasm backend (made or half-made) and registers its factory again, so setBackend builds anew. */
function reregisterWasm(): void {
  const entry = wasmFactoryEntry();
  if (!entry) return;
  tf.removeBackend("wasm");
  tf.registerBackend("wasm", entry.factory, entry.priority);
}

function wasmFactoryEntry() {
  const engine = tf.engine() as unknown as {
    registryFactory: Record<string, { factory: () => tf.KernelBackend | Promise<tf.KernelBackend>; priority: number }>;
  };
  return engine.registryFactory.wasm;
}

/** A wasm backend fixes its thread pool when created: drop one with another count so setBackend builds anew. */
function recreateIfInitialized(wantThreads: number, getThreadsCount: () => number): void {
  const engine = tf.engine() as unknown as { registry: Record<string, unknown> };
  if (!engine.registry.wasm) return;
  let current = 1;
  try {
    current = getThreadsCount();
  } catch {
    return;
  }
  if (current !== wantThreads) reregisterWasm();
}

async function hardwareThreads(): Promise<number> {
  if (isNode) return (await import("node:os")).availableParallelism();
  const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
  return nav?.hardwareConcurrency ?? 1;
}

async function nodeWasmDir(): Promise<string> {
  const { createRequire } = await import("node:module");
  const path = await import("node:path");
  const require = createRequire(import.meta.url);
  const entry = require.resolve("@tensorflow/tfjs-backend-wasm");
  // entry is .../tfjs-backend-wasm/dist/<file>.js; the binaries sit in dist/.
  let dir = path.dirname(entry);
  while (path.basename(dir) !== "dist" && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return `${dir}${path.sep}`;
}
