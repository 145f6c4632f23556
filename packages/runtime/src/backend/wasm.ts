import * as tf from "@tensorflow/tfjs-core";
import type { InitBackendOptions } from "./initBackend.js";

const isNode = typeof process !== "undefined" && typeof process.versions?.node === "string";

/** Configure the wasm backend's binary location and thread count; returns the features it will use. */
export async function initWasm(
  options: InitBackendOptions,
  notes: string[],
): Promise<{ simd: boolean; threads: number }> {
  const wasm = await import("@tensorflow/tfjs-backend-wasm");
  const paths = options.wasmPaths ?? (isNode ? await nodeWasmDir() : undefined);
  if (paths) wasm.setWasmPaths(paths.endsWith("/") ? paths : `${paths}/`);
  const wantThreads =
    options.threads === true ? hardwareThreads() : typeof options.threads === "number" ? options.threads : 1;
  if (wantThreads > 1) {
    if (isNode) {
      notes.push(
        "wasm threads are unavailable in Node: tfjs starts its pthread worker from a blob: URL that Node cannot load; using 1 thread",
      );
    } else {
      wasm.setThreadsCount(wantThreads);
    }
  }
  const simd = Boolean(await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT"));
  const threadsSupported = Boolean(await tf.env().getAsync("WASM_HAS_MULTITHREAD_SUPPORT"));
  if (!simd) notes.push("this engine has no wasm SIMD: the plain binary is used (several times slower)");
  // The backend itself is created lazily by setBackend('wasm').
  return { simd, threads: threadsSupported && !isNode ? Math.max(1, wantThreads) : 1 };
}

function hardwareThreads(): number {
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
