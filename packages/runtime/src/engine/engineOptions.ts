import { z } from "zod";
import { parseWithSchema } from "../schema/parseWithSchema.js";
import type { Clock } from "./BatchScheduler.js";
import type { LoraBatchKernel } from "./LoraBatchPlan.js";
import type { AdapterLoader } from "./types.js";

export interface EngineOptions {
  /** `unmerged` (default): many tenants per batch. `merged`: one hot adapter folded into the weights per batch. */
  mode?: "unmerged" | "merged";
  /** Most examples in one batch: an integer >= 1 (default 32). */
  maxBatchSize?: number;
  /** Longest a request waits for others to share its batch: finite, >= 0 (default 2 ms). */
  maxWaitMs?: number;
  /** Most requests waiting: an integer >= 1; more are refused with `Overloaded` (default 4096). */
  maxQueued?: number;
  /** Byte budget of resident adapters: finite, >= 0 (default 256 MiB). Pinned adapters may exceed it briefly. */
  cacheBytes?: number;
  /** `auto` (default): batches start by size and wait. `manual`: only `flush()` starts them (deterministic tests). */
  flush?: "auto" | "manual";
  /** Time source for `maxWaitMs` (default: the system clock). */
  clock?: Clock;
  /** Turns an adapter source (folder, bytes) into weights (default: PEFT format); `custom` sources load themselves. */
  loader?: AdapterLoader;
  /**
   * How heterogeneous batches get each row's LoRA term. Default `auto`: @lowrank/core's `bgmvAdapters`, the
   * registered LoRA kernel on cpu and webgpu and the fastest measured composition elsewhere (wasm); `kernel`
   * or `segmented` force one path of it; `portable`: stacked batched matmuls; or a custom stacked kernel.
   */
  kernel?: LoraBatchKernel;
}

const finite = (what: string) => z.number({ error: `expected ${what}` }).refine(Number.isFinite, `expected ${what}`);
const atLeast = (min: number, what: string) => finite(what).pipe(z.number().min(min, { error: `expected ${what}` }));
const positiveInt = (fallback: number) =>
  z.number({ error: "expected an integer >= 1" }).int({ error: "expected an integer >= 1" }).min(1).default(fallback);

/** The numeric, mode and kernel options of an Engine; the loader and clock are checked by type only. */
export const engineOptionsSchema = z.object({
  mode: z.enum(["unmerged", "merged"], { error: "expected 'unmerged' or 'merged'" }).default("unmerged"),
  maxBatchSize: positiveInt(32),
  maxWaitMs: atLeast(0, "a finite number >= 0").default(2),
  maxQueued: positiveInt(4096),
  cacheBytes: atLeast(0, "a finite number of bytes >= 0").default(256 * 2 ** 20),
  flush: z.enum(["auto", "manual"], { error: "expected 'auto' or 'manual'" }).default("auto"),
  kernel: z
    .custom<LoraBatchKernel>(
      (v) =>
        typeof v === "function" || (typeof v === "string" && ["auto", "kernel", "segmented", "portable"].includes(v)),
      { error: "expected 'auto', 'kernel', 'segmented', 'portable' or a kernel function" },
    )
    .default("auto"),
});

export type ResolvedEngineOptions = z.output<typeof engineOptionsSchema>;

/** Validated options with defaults, or `RuntimeError("InvalidArgument")` naming the option. */
export function resolveEngineOptions(options: Record<string, unknown>): ResolvedEngineOptions {
  const { loader: _l, clock: _c, ...rest } = options;
  return parseWithSchema(engineOptionsSchema.strict(), rest, "options");
}
