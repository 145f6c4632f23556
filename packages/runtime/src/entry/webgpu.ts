/**
 * `@lowrank/runtime/webgpu`: the WebGPU backend, for browsers that expose `navigator.gpu`. The tfjs
 * backend registers itself only if `navigator.gpu` exists when it is first imported, so it is imported
 * inside {@link initWebGPUBackend} (in Node, call `installNodeWebGPU()` from `@lowrank/runtime/node` first).
 */
import { type BackendInfo, initBackend } from "../backend/initBackend.js";

/** `initBackend({ backend: "webgpu" })`: a typed `BackendUnavailable` error where there is no WebGPU. */
export function initWebGPUBackend(): Promise<BackendInfo> {
  return initBackend({ backend: "webgpu" });
}
