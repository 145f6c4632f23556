import * as tf from "@tensorflow/tfjs-core";
import { isRuntimeError, RuntimeError } from "./errors.js";
import { initWasm, requestedWasmThreads, startWasm, WASM_START_TIMEOUT_MS } from "./wasm.js";

export type BackendName = "wasm" | "cpu" | "tensorflow" | "webgpu";
export type BackendRequest = BackendName | "auto";

export interface InitBackendOptions {
  /** Which backend to use. `auto` (default): tensorflow if installed, else webgpu where `navigator.gpu` exists in a browser, else wasm. */
  backend?: BackendRequest;
  /**
   * wasm only: number of threads, or `true` for the machine's cores. Default: `LOWRANK_WASM_THREADS`
   * (a number or `auto`) when set in Node, else 1. In Node, threads > 1 use the workarounds in wasm-threads.ts.
   */
  threads?: number | boolean;
  /** wasm only: URL or folder that holds the `.wasm` binaries (defaults to the installed package's `dist/` in Node). */
  wasmPaths?: string;
  /**
   * wasm only: how long the backend may take to start (milliseconds, default 30 000) before `initBackend`
   * gives up with a `BackendInitTimeout` error. A threaded start waits for a pool of workers.
   */
  startTimeoutMs?: number;
}

export interface BackendInfo {
  backend: BackendName;
  requested: BackendRequest;
  /** wasm: whether the SIMD binary was loaded. */
  simd: boolean;
  /** wasm: threads in use (1 when single-threaded); other backends report 1. */
  threads: number;
  /** Why a requested feature or backend was not used, if any. */
  notes: string[];
  tfjsVersion: string;
  environment: "node" | "browser";
}

const isNode = typeof process !== "undefined" && typeof process.versions?.node === "string";
let current: BackendInfo | undefined;

/** The backend chosen by the last successful `initBackend` call, if any. */
export function backendInfo(): BackendInfo | undefined {
  return current;
}

/**
 * Select and initialize the TensorFlow.js backend and report what is active. Safe to call
 * again: a call asking for the backend already active returns its info without re-initializing.
 */
export async function initBackend(options: InitBackendOptions = {}): Promise<BackendInfo> {
  const requested = options.backend ?? "auto";
  const sameThreads = current?.backend !== "wasm" || (await requestedWasmThreads(options)) === current.threads;
  if (
    current &&
    (requested === current.requested || requested === current.backend) &&
    tf.getBackend() === current.backend &&
    sameThreads
  ) {
    return current;
  }
  const notes: string[] = [];
  const order: BackendName[] =
    requested === "auto" ? (isNode ? ["tensorflow", "wasm"] : ["webgpu", "wasm"]) : [requested];
  let lastError: unknown;
  for (const name of order) {
    try {
      const info = await activate(name, options, notes);
      current = { ...info, requested, notes, tfjsVersion: tf.version_core, environment: isNode ? "node" : "browser" };
      return current;
    } catch (error) {
      lastError = error;
      if (requested !== "auto") break;
      notes.push(`${name} unavailable: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (isRuntimeError(lastError)) throw lastError;
  throw new RuntimeError("BackendInitFailed", `could not initialize backend '${requested}': ${String(lastError)}`, {
    cause: lastError,
  });
}

async function activate(name: BackendName, options: InitBackendOptions, notes: string[]) {
  switch (name) {
    case "cpu": {
      await import("@tensorflow/tfjs-backend-cpu");
      // The cpu backend's first write nags Node users to install tfjs-node; here cpu was chosen on purpose.
      if (isNode) tf.env().set("PROD", true);
      await setOrThrow("cpu");
      return { backend: name, simd: false, threads: 1 };
    }
    case "wasm": {
      const timeout = options.startTimeoutMs ?? WASM_START_TIMEOUT_MS;
      if (!(Number.isFinite(timeout) && timeout >= 0))
        throw new RuntimeError(
          "InvalidArgument",
          `startTimeoutMs: expected a finite number of milliseconds >= 0, found ${String(options.startTimeoutMs)}`,
        );
      const setup = await initWasm(options, notes);
      await startWasm(setup, () => setOrThrow("wasm"), timeout);
      return { backend: name, simd: setup.simd, threads: setup.actualThreads() };
    }
    case "tensorflow": {
      const moduleName = "@tensorflow/tfjs-node";
      try {
        await import(/* @vite-ignore */ moduleName);
      } catch (error) {
        throw new RuntimeError(
          "BackendUnavailable",
          "@tensorflow/tfjs-node is not installed (optional: it downloads libtensorflow at install time)",
          { cause: error },
        );
      }
      await setOrThrow("tensorflow");
      return { backend: name, simd: false, threads: 1 };
    }
    case "webgpu": {
      const nav = (globalThis as { navigator?: { gpu?: unknown } }).navigator;
      if (!nav?.gpu) {
        throw new RuntimeError(
          "BackendUnavailable",
          "navigator.gpu does not exist here (in Node call installNodeWebGPU() first)",
        );
      }
      await import("@tensorflow/tfjs-backend-webgpu");
      if (!tf.findBackendFactory("webgpu")) {
        throw new RuntimeError(
          "BackendUnavailable",
          "tfjs-backend-webgpu was imported before navigator.gpu existed, so it did not register (call installNodeWebGPU() before the first import)",
        );
      }
      await setOrThrow("webgpu");
      return { backend: name, simd: false, threads: 1 };
    }
    default:
      throw new RuntimeError(
        "InvalidArgument",
        `unknown backend '${String(name)}': expected wasm, cpu, tensorflow, webgpu or auto`,
      );
  }
}

async function setOrThrow(name: string): Promise<void> {
  const ok = await tf.setBackend(name);
  await tf.ready();
  if (!ok || tf.getBackend() !== name) {
    throw new RuntimeError(
      "BackendInitFailed",
      `tf.setBackend('${name}') failed; active backend is '${tf.getBackend()}'`,
    );
  }
}
