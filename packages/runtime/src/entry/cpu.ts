/**
 * `@lowrank/runtime/cpu`: the pure-JavaScript cpu backend alone (slow, but runs anywhere and has
 * @lowrank/core's custom LoRA kernels). Imports `@tensorflow/tfjs-backend-cpu` statically.
 */
import "@tensorflow/tfjs-backend-cpu";
import { type BackendInfo, initBackend } from "../backend/initBackend.js";

/** `initBackend({ backend: "cpu" })`. */
export function initCpuBackend(): Promise<BackendInfo> {
  return initBackend({ backend: "cpu" });
}
