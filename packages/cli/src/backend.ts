import { availableParallelism } from "node:os";
import { type BackendInfo, initBackend, parseThreads } from "@lowrank/runtime";
import { Option } from "commander";
import { type BackendName, invalidOption } from "./options.js";
import type { CliIO } from "./output.js";

export const THREADS_HELP = 'wasm threads: a number or "auto" for every core (default: $LOWRANK_WASM_THREADS, else 1)';

/** `--threads`: a positive integer or `auto`; anything else is a usage error (exit 2). */
export function threadsOption(): Option {
  return new Option("--threads <n>", THREADS_HELP).argParser((value: string) => {
    try {
      return parseThreads(value, "--threads");
    } catch {
      throw invalidOption("--threads", 'a thread count from 1 to 999 or "auto"', value);
    }
  });
}

/**
 * Starts the tfjs backend a command asked for. `--backend webgpu` installs Node's WebGPU first, and a
 * thread count the backend cannot honour (the wasm build's pool holds 8) is said on stderr, not
 * silently changed.
 */
export async function startBackend(
  io: CliIO,
  backend: BackendName = "auto",
  threads?: number | true,
): Promise<BackendInfo> {
  if (backend === "webgpu") await (await import("@lowrank/runtime/node")).installNodeWebGPU();
  const info = await initBackend({ backend, threads });
  const asked = threadsAsked(threads);
  if (asked && info.backend === "wasm" && info.threads < asked.count)
    io.stderr.write(
      `lowrank: ${asked.label}: running ${info.threads} thread${info.threads === 1 ? "" : "s"}, the most the wasm backend starts here\n`,
    );
  return info;
}

/** The thread count asked for and where it came from (the flag, `auto`, or the environment). */
function threadsAsked(threads: number | true | undefined): { count: number; label: string } | undefined {
  if (typeof threads === "number") return { count: threads, label: `--threads ${threads}` };
  if (threads === true) {
    const cores = availableParallelism();
    return { count: cores, label: `--threads auto (${cores} cores)` };
  }
  const env = process.env.LOWRANK_WASM_THREADS;
  if (!env) return undefined;
  try {
    const parsed = parseThreads(env, "LOWRANK_WASM_THREADS");
    const count = parsed === true ? availableParallelism() : parsed;
    return { count, label: `LOWRANK_WASM_THREADS=${env.trim()}` };
  } catch {
    return undefined; // initBackend has refused it already
  }
}
