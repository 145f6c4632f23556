import { RuntimeError } from "../backend/errors.js";
import { AdapterRegistry } from "./AdapterRegistry.js";
import { computeBatch, splitBatchOutput } from "./computeBatch.js";
import type { LoraBatchKernel } from "./LoraBatchPlan.js";
import type { MergedWeights } from "./MergedWeights.js";
import type { ResidentAdapter } from "./ResidentAdapter.js";
import { BASE_ADAPTER, type ForwardRequest, type ForwardResult, type ServableBase } from "./types.js";

/** A queued forward request of the engine. */
export interface Pending {
  req: ForwardRequest;
  shape: number[];
  baseId: string;
  adapter: string;
  scale: number;
  key: string;
  enqueuedAt: number;
  settled: boolean;
  resolve: (r: ForwardResult) => void;
  reject: (e: unknown) => void;
  cleanup: () => void;
}

/** What running a batch needs from the engine. */
export interface ForwardBatchHost {
  getBase(id: string): Promise<ServableBase>;
  readonly adapters: AdapterRegistry;
  /** The base's merged weights in `merged` mode, else undefined. */
  merged(baseId: string): MergedWeights | undefined;
  readonly kernel: LoraBatchKernel;
  readonly counters: { batches: number; rows: number; largestBatch: number };
}

/** Resolves or rejects a request once (later outcomes are ignored). */
export function settle(p: Pending, outcome: ForwardResult | unknown, ok = false): void {
  if (p.settled) return;
  p.settled = true;
  p.cleanup();
  if (ok) p.resolve(outcome as ForwardResult);
  else p.reject(outcome);
}

/**
 * Runs one batch of forward requests of one base: pins their adapters, fails rows whose scale overflows
 * float32, computes x·W once with each row's LoRA term (`computeBatch`, or the merged weights), and
 * settles every request with its own slice of the output.
 */
export async function runForwardBatch(host: ForwardBatchHost, items: Pending[]): Promise<void> {
  await Promise.resolve(); // let submitters of this tick finish before the batch starts
  const baseId = items[0]?.baseId as string;
  const names = [...new Set(items.filter((p) => !p.settled && p.adapter !== BASE_ADAPTER).map((p) => p.adapter))];
  const held = new Map<string, ResidentAdapter>();
  let base: ServableBase;
  try {
    base = await host.getBase(baseId);
  } catch (error) {
    for (const p of items) settle(p, error);
    return;
  }
  await Promise.all(
    names.map(async (name) => {
      try {
        held.set(name, await host.adapters.acquire(name, base, baseId));
      } catch (error) {
        for (const p of items) if (p.adapter === name) settle(p, error);
      }
    }),
  );
  for (const p of items) {
    // A scale that overflows float32 once multiplied by a module's alpha/r fails its own row only.
    const adapter = held.get(p.adapter);
    if (adapter && [...adapter.modules.values()].some((m) => !Number.isFinite(Math.fround(p.scale * m.scaling))))
      settle(p, nonFinite(p));
  }
  try {
    const rows = items.filter((p) => !p.settled);
    if (rows.length === 0) return;
    const merged = host.merged(baseId);
    if (merged) {
      const first = rows[0] as Pending;
      const adapter = held.get(first.adapter) ?? null;
      merged.ensure(adapter, first.scale, adapter ? AdapterRegistry.key(baseId, first.adapter) : null);
    }
    const out = computeBatch(
      base,
      rows.map((p) => ({ input: p.req.input, shape: p.shape, adapter: held.get(p.adapter) ?? null, scale: p.scale })),
      { merged, kernel: host.kernel },
    );
    let parts: ReturnType<typeof splitBatchOutput>;
    try {
      const data = (await out.data()) as Float32Array;
      parts = splitBatchOutput(
        base,
        data,
        out.shape,
        rows.map((p) => p.shape),
      );
    } finally {
      out.dispose(); // also when the read fails
    }
    host.counters.batches++;
    host.counters.rows += rows.length;
    host.counters.largestBatch = Math.max(host.counters.largestBatch, rows.length);
    rows.forEach((p, i) => {
      const { values, shape } = parts[i] as { values: Float32Array; shape: number[] };
      if (!values.every(Number.isFinite)) {
        settle(p, nonFinite(p));
        return;
      }
      const result: ForwardResult = {
        data: Float32Array.from(values),
        shape,
        adapter: p.adapter,
        digest: held.get(p.adapter)?.digest,
        batchSize: rows.length,
      };
      settle(p, result, true);
    });
  } catch (error) {
    for (const p of items) settle(p, error);
  } finally {
    for (const name of held.keys()) host.adapters.release(name, baseId);
  }
}

/** A row whose output overflowed: the request's scale (or its input) is too large for float32. */
function nonFinite(p: Pending): RuntimeError {
  return p.adapter !== BASE_ADAPTER && p.scale !== 1
    ? new RuntimeError(
        "InvalidArgument",
        `scale: expected a scale whose output is finite in float32, found ${p.scale} (the output holds NaN or Inf)`,
      )
    : new RuntimeError(
        "InvalidArgument",
        "input: expected values whose output is finite in float32, found an output holding NaN or Inf",
      );
}
