/**
 * `@lowrank/runtime/wasm`: the wasm backend alone. Imports `@tensorflow/tfjs-backend-wasm` statically, so
 * a bundle that uses this entry carries that backend and no other.
 */
import "@tensorflow/tfjs-backend-wasm";
import { type BackendInfo, type InitBackendOptions, initBackend } from "../backend/initBackend.js";

export { parseThreads } from "../backend/wasm.js";

/** `initBackend({ backend: "wasm", ...options })`: SIMD when the engine has it, `threads` as asked. */
export function initWasmBackend(options: Omit<InitBackendOptions, "backend"> = {}): Promise<BackendInfo> {
  return initBackend({ ...options, backend: "wasm" });
}
