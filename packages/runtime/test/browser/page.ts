// Bundled for the Chromium page: runs the LoRA kernel conformance cases on tfjs's webgpu backend.
import { kernelConformanceCases, registerLoraKernels } from "@lowrank/core";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-webgpu";
// tfjs-core alone registers no gradients; the conformance cases take some (as @tensorflow/tfjs would).
import "@tensorflow/tfjs-core/dist/register_all_gradients.js";

export interface PageReport {
  backend: string;
  adapter: string;
  results: Array<{ name: string; ok: boolean; error?: string }>;
  error?: string;
}

async function runConformance(): Promise<PageReport> {
  const gpu = (
    navigator as { gpu?: { requestAdapter(): Promise<{ info?: { vendor?: string; architecture?: string } } | null> } }
  ).gpu;
  if (!gpu)
    return {
      backend: tf.getBackend() ?? "none",
      adapter: "",
      results: [],
      error: `navigator.gpu is missing (secure context: ${isSecureContext})`,
    };
  const adapter = await gpu.requestAdapter();
  if (!adapter)
    return { backend: "none", adapter: "", results: [], error: "navigator.gpu.requestAdapter() returned null" };
  registerLoraKernels();
  if (!(await tf.setBackend("webgpu")))
    return { backend: tf.getBackend(), adapter: "", results: [], error: "tf.setBackend('webgpu') failed" };
  await tf.ready();
  const results: PageReport["results"] = [];
  for (const c of kernelConformanceCases("webgpu", { trials: 4 })) {
    try {
      await c.run();
      results.push({ name: c.name, ok: true });
    } catch (error) {
      results.push({ name: c.name, ok: false, error: error instanceof Error ? error.message : String(error) });
    }
  }
  const info = adapter.info ?? {};
  return { backend: tf.getBackend(), adapter: [info.vendor, info.architecture].filter(Boolean).join(" "), results };
}

(globalThis as { runConformance?: () => Promise<PageReport> }).runConformance = runConformance;
