import * as tf from "@tensorflow/tfjs-core";
import { RuntimeError } from "./errors.js";
import type { InitBackendOptions } from "./initBackend.js";

const isNode = typeof process !== "undefined" && typeof process.versions?.node === "string";

export interface WasmSetup {
  simd: boolean;
  /** Undo the temporary Node patches (threads); call after `tf.setBackend('wasm')` settled. */
  restore: () => void;
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
  let restore = () => {};
  if (isNode) {
    tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", wantThreads > 1);
    if (wantThreads > 1) restore = (await import("./wasm-threads.js")).patchNodeForWasmThreads(wantThreads);
  }
  wasm.setThreadsCount(wantThreads);
  const threadsSupported = Boolean(await tf.env().getAsync("WASM_HAS_MULTITHREAD_SUPPORT"));
  if (wantThreads > 1 && !threadsSupported)
    notes.push("this engine cannot run wasm threads (no SharedArrayBuffer or cross-origin isolation): using 1 thread");
  recreateIfInitialized(wantThreads, wasm.getThreadsCount);
  const simd = Boolean(await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT"));
  if (!simd) notes.push("this engine has no wasm SIMD: the plain binary is used (several times slower)");
  // The backend itself is created lazily by setBackend('wasm').
  return { simd, restore, actualThreads: () => (threadsSupported ? wasm.getThreadsCount() : 1) };
}

/** A wasm backend fixes its thread pool when created: drop one with another count so setBackend builds anew. */
function recreateIfInitialized(wantThreads: number, getThreadsCount: () => number): void {
  const engine = tf.engine() as unknown as {
    registry: Record<string, unknown>;
    registryFactory: Record<string, { factory: () => tf.KernelBackend | Promise<tf.KernelBackend>; priority: number }>;
  };
  if (!engine.registry.wasm) return;
  let current = 1;
  try {
    current = getThreadsCount();
  } catch {
    return;
  }
  const entry = engine.registryFactory.wasm;
  if (current === wantThreads || !entry) return;
  tf.removeBackend("wasm");
  tf.registerBackend("wasm", entry.factory, entry.priority);
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
