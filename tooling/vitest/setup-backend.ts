// Vitest setup file for suites that use TensorFlow.js: every package's tests pick their
// backend through the runtime's one setup call. LOWRANK_BACKEND overrides the default (wasm).
import { initBackend } from "@lowrank/runtime";

const requested = process.env.LOWRANK_BACKEND ?? "wasm";
await initBackend({ backend: requested as "wasm" | "cpu" | "tensorflow" | "webgpu" | "auto" });
