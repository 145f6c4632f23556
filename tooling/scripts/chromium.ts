import { existsSync } from "node:fs";
import { type Browser, chromium, type LaunchOptions } from "playwright-core";
import { TestServiceError } from "./TestServiceError.js";

const CANDIDATES = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];
const SWIFTSHADER_ICD = "/usr/lib/chromium/vk_swiftshader_icd.json";

/** Flags for headless Chromium on a build machine (see shared/TOOLCHAIN.md). */
export const CHROMIUM_FLAGS = [
  "--no-sandbox",
  "--disable-dev-shm-usage",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
] as const;

/** Path of a Chromium binary: `$CHROMIUM_PATH`, else the first Debian location that exists; undefined if none. */
export function chromiumPath(): string | undefined {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv) return existsSync(fromEnv) ? fromEnv : undefined;
  return CANDIDATES.find((p) => existsSync(p));
}

/** Path of a Chromium binary; throws `TestServiceError("BinaryMissing")` when there is none. */
export function findChromium(): string {
  const path = chromiumPath();
  if (!path) {
    throw new TestServiceError(
      "BinaryMissing",
      `expected Chromium at $CHROMIUM_PATH or ${CANDIDATES.join(", ")}, found none (apt-get install chromium)`,
    );
  }
  return path;
}

/** Why Chromium cannot start here, or undefined when it can. */
export function chromiumMissingReason(): string | undefined {
  return chromiumPath() ? undefined : "Chromium not found (apt-get install chromium, or set CHROMIUM_PATH)";
}

export interface LaunchChromiumOptions {
  /** Add `--enable-unsafe-webgpu` and point Vulkan at Chromium's SwiftShader when present. */
  webgpu?: boolean;
  /** Extra flags after the defaults. */
  args?: string[];
  headless?: boolean;
}

/**
 * Launch headless Chromium through playwright-core. Playwright gives every launch a fresh temporary
 * profile (it refuses `--user-data-dir` in `args`), so each browser starts clean. Close it when done.
 */
export async function launchChromium(options: LaunchChromiumOptions = {}): Promise<Browser> {
  const executablePath = findChromium();
  const args: string[] = [...CHROMIUM_FLAGS];
  const launch: LaunchOptions = { executablePath, headless: options.headless ?? true, args };
  if (options.webgpu) {
    args.push("--enable-unsafe-webgpu");
    if (existsSync(SWIFTSHADER_ICD)) launch.env = { ...process.env, VK_ICD_FILENAMES: SWIFTSHADER_ICD };
  }
  args.push(...(options.args ?? []));
  try {
    return await chromium.launch(launch);
  } catch (cause) {
    throw new TestServiceError(
      "StartFailed",
      `expected Chromium at ${executablePath} to launch, found: ${String(cause)}`,
      {
        cause,
      },
    );
  }
}
