import { RuntimeError } from "./errors.js";

/** Chromium's bundled SwiftShader (Debian's `chromium` package): a Vulkan driver that Dawn accepts. */
export const CHROMIUM_SWIFTSHADER_ICD = "/usr/lib/chromium/vk_swiftshader_icd.json";
const CHROMIUM_VULKAN_LOADER = "/usr/lib/chromium/libvulkan.so.1";
const SYSTEM_VULKAN_LOADERS = [
  "/usr/lib/x86_64-linux-gnu/libvulkan.so.1",
  "/usr/lib/aarch64-linux-gnu/libvulkan.so.1",
  "/usr/lib64/libvulkan.so.1",
  "/usr/lib/libvulkan.so.1",
];
const RTLD_NODELETE = 0x1000; // glibc; missing from os.constants.dlopen

export interface NodeWebGPUOptions {
  /** Dawn toggles passed to `create()` from the `webgpu` package (e.g. `enable-dawn-features=...`). */
  flags?: string[];
  /** Vulkan ICD to fall back to when the machine's own drivers give no adapter (default: Chromium's SwiftShader). */
  fallbackIcd?: string;
}

export interface NodeWebGPUInfo {
  /** Adapter description as Dawn reports it, e.g. "google swiftshader SwiftShader driver 5.0.0". */
  adapter: string;
  /** True when the SwiftShader fallback was needed (software rendering: correctness, not speed). */
  software: boolean;
  notes: string[];
}

interface GpuLike {
  requestAdapter(): Promise<{ info?: { vendor?: string; architecture?: string; description?: string } } | null>;
}

let installed: NodeWebGPUInfo | undefined;

/**
 * Make WebGPU available to TensorFlow.js in Node through Dawn (the `webgpu` package): installs its
 * globals and `navigator.gpu`. Call before `initBackend({ backend: 'webgpu' })` (tfjs-backend-webgpu
 * registers itself only if `navigator.gpu` exists when it is first imported). Tries the machine's Vulkan
 * drivers first; if they give no adapter, points the Vulkan loader at Chromium's SwiftShader (loading
 * Chromium's own libvulkan.so.1 when the system has none). Throws `BackendUnavailable` with the reason
 * when no adapter can be found. Idempotent.
 */
export async function installNodeWebGPU(options: NodeWebGPUOptions = {}): Promise<NodeWebGPUInfo> {
  if (installed) return installed;
  if (typeof process === "undefined" || typeof process.versions?.node !== "string") {
    throw new RuntimeError(
      "InvalidArgument",
      "installNodeWebGPU() is for Node; browsers have navigator.gpu (or not) natively",
    );
  }
  let webgpu: { create(flags: string[]): unknown; globals: object };
  try {
    const name = "webgpu";
    webgpu = (await import(/* @vite-ignore */ name)) as typeof webgpu;
  } catch (error) {
    throw new RuntimeError(
      "BackendUnavailable",
      `the optional 'webgpu' package (Dawn for Node) is not installed: ${String(error)}`,
      { cause: error },
    );
  }
  const notes: string[] = [];
  const flags = options.flags ?? [];
  const { existsSync } = await import("node:fs");
  const systemLoader = Boolean(process.env.LD_LIBRARY_PATH) || SYSTEM_VULKAN_LOADERS.some((p) => existsSync(p));
  // Without any Vulkan loader Dawn can only fail (noisily): go straight to the fallback then.
  let gpu = webgpu.create(flags) as GpuLike;
  let adapter = systemLoader ? await gpu.requestAdapter() : null;
  let software = false;
  if (!adapter) {
    const icd = options.fallbackIcd ?? CHROMIUM_SWIFTSHADER_ICD;
    if (!existsSync(icd)) {
      throw new RuntimeError(
        "BackendUnavailable",
        `Dawn found no WebGPU adapter, and the fallback Vulkan driver ${icd} does not exist (install Debian's chromium for SwiftShader)`,
      );
    }
    process.env.VK_ICD_FILENAMES = icd;
    if (!systemLoader && existsSync(CHROMIUM_VULKAN_LOADER)) {
      preloadSharedLibrary(CHROMIUM_VULKAN_LOADER);
      notes.push(`no system Vulkan loader: loaded ${CHROMIUM_VULKAN_LOADER}`);
    }
    gpu = webgpu.create(flags) as GpuLike;
    adapter = await gpu.requestAdapter();
    software = true;
    notes.push(`using the Vulkan driver ${icd} (VK_ICD_FILENAMES)`);
    if (!adapter)
      throw new RuntimeError("BackendUnavailable", `Dawn found no WebGPU adapter, even with VK_ICD_FILENAMES=${icd}`);
  }
  Object.assign(globalThis, webgpu.globals);
  const g = globalThis as { navigator?: object };
  if (!g.navigator) Object.defineProperty(globalThis, "navigator", { value: {}, configurable: true, writable: true });
  Object.defineProperty(g.navigator as object, "gpu", { value: gpu, configurable: true });
  const info = adapter.info ?? {};
  installed = {
    adapter: [info.vendor, info.architecture, info.description].filter(Boolean).join(" "),
    software,
    notes,
  };
  return installed;
}

/**
 * dlopen a library with RTLD_GLOBAL | RTLD_NODELETE so that later `dlopen("libvulkan.so.1")` calls (Dawn's)
 * find it by soname. `process.dlopen` then complains that it is not a Node addon, which is expected.
 */
function preloadSharedLibrary(file: string): void {
  const holder = { exports: {} };
  try {
    process.dlopen(holder, file, 2 /* RTLD_NOW */ | 0x100 /* RTLD_GLOBAL */ | RTLD_NODELETE);
  } catch (error) {
    if (!String(error).includes("did not self-register")) {
      throw new RuntimeError("BackendUnavailable", `could not load ${file}: ${String(error)}`, { cause: error });
    }
  }
}
