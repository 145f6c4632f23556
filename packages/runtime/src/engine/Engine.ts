import { Rng, registerLoraKernels } from "@lowrank/core";
import { isRuntimeError, RuntimeError } from "../backend/errors.js";
import { type SamplingOptions, sampleToken, validateSampling } from "../models/sampleToken.js";
import type { AdapterCacheStats } from "./AdapterCache.js";
import { type AdapterInfo, AdapterRegistry } from "./AdapterRegistry.js";
import { BatchScheduler, systemClock } from "./BatchScheduler.js";
import { checkForwardInput } from "./checkForwardInput.js";
import { computeBatch, splitBatchOutput } from "./computeBatch.js";
import { type EngineOptions, type ResolvedEngineOptions, resolveEngineOptions } from "./engineOptions.js";
import type { LoraBatchKernel } from "./LoraBatchPlan.js";
import { MergedWeights } from "./MergedWeights.js";
import type { ResidentAdapter } from "./ResidentAdapter.js";
import {
  type AdapterSource,
  BASE_ADAPTER,
  type ForwardRequest,
  type ForwardResult,
  type ServableBase,
} from "./types.js";

export type { AdapterInfo } from "./AdapterRegistry.js";
export type { EngineOptions } from "./engineOptions.js";

export interface EngineStats {
  baseLoads: number;
  batches: number;
  rows: number;
  largestBatch: number;
  merges: number;
  unmerges: number;
  queued: number;
  cache: AdapterCacheStats;
}

export interface GenerateRequest extends Omit<ForwardRequest, "input" | "shape">, SamplingOptions {
  inputIds: number[];
  maxNewTokens: number;
  eosTokenId?: number;
  /** Seed of the sampler when `temperature` > 0 (default 0): same seed, same tokens. */
  seed?: number;
}

interface Pending {
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

interface BaseSlot {
  load: () => Promise<ServableBase> | ServableBase;
  base?: ServableBase;
  loading?: Promise<ServableBase>;
  merged?: MergedWeights;
}

/**
 * Serves forward requests for many adapters over shared frozen bases. Each base is loaded once and
 * never copied; adapters load on demand into an LRU cache (byte budget, pinned while a batch uses
 * them); concurrent requests are batched dynamically (`BatchScheduler`), x·W computed once per batch and
 * each row's LoRA term added by a gathered kernel (`computeBatch`), so a row's output equals the same
 * request run alone. Options are validated up front: bad values throw `InvalidArgument`.
 */
export class Engine {
  readonly mode: "unmerged" | "merged";
  private readonly gatherKernel: LoraBatchKernel;
  private readonly opts: ResolvedEngineOptions;
  private readonly bases = new Map<string, BaseSlot>();
  private readonly adaptersById: AdapterRegistry;
  private readonly scheduler: BatchScheduler<Pending>;
  private closed = false;
  /** Base loads that forwards wait on before they queue (so `flush` waits for them too). */
  private readonly arriving = new Set<Promise<unknown>>();
  private counters = { baseLoads: 0, batches: 0, rows: 0, largestBatch: 0 };

  constructor(options: EngineOptions = {}) {
    this.opts = resolveEngineOptions(options as Record<string, unknown>);
    this.mode = this.opts.mode;
    registerLoraKernels();
    this.gatherKernel = this.opts.kernel;
    this.adaptersById = new AdapterRegistry(this.opts.cacheBytes, options.loader, (baseId, key) =>
      this.bases.get(baseId)?.merged?.forget(key),
    );
    this.scheduler = new BatchScheduler<Pending>({ ...this.opts, clock: options.clock ?? systemClock }, (items) =>
      this.runBatch(items),
    );
  }

  /** Registers a base under `id`; a function is called once, on first use. */
  addBase(id: string, base: ServableBase | (() => Promise<ServableBase> | ServableBase)): void {
    if (this.bases.has(id)) throw new RuntimeError("InvalidArgument", `base '${id}' is already registered`);
    if (typeof base === "function") this.bases.set(id, { load: base });
    else {
      this.bases.set(id, { load: () => base, base, merged: new MergedWeights(base) });
      this.counters.baseLoads++;
    }
  }

  baseIds(): string[] {
    return [...this.bases.keys()];
  }

  /** The loaded base (loading it if needed); `id` may be omitted when there is exactly one. */
  async getBase(id?: string): Promise<ServableBase> {
    const slot = this.bases.get(this.baseKey(id)) as BaseSlot;
    if (slot.base) return slot.base;
    slot.loading ??= (async () => {
      try {
        const base = await slot.load();
        this.counters.baseLoads++;
        slot.base = base;
        slot.merged = new MergedWeights(base);
        return base;
      } catch (error) {
        slot.loading = undefined;
        throw isRuntimeError(error)
          ? error
          : new RuntimeError("ModelLoadFailed", `base '${id ?? "(default)"}': ${errorText(error)}`, { cause: error });
      }
    })();
    return slot.loading;
  }

  /** Makes an adapter known by name (nothing is loaded until a request or `loadAdapter` needs it). */
  registerAdapter(name: string, source: AdapterSource, options: { digest?: string } = {}): void {
    this.adaptersById.register(name, source, options.digest);
  }

  adapters(): AdapterInfo[] {
    return this.adaptersById.info(this.baseIds());
  }

  /** Loads (prefetches) an adapter for a base so the first request does not wait for it. */
  async loadAdapter(nameOrDigest: string, baseId?: string): Promise<AdapterInfo> {
    const name = this.adaptersById.resolve(nameOrDigest);
    const baseKey = this.baseKey(baseId);
    const base = await this.getBase(baseKey);
    await this.adaptersById.prefetch(name, base, baseKey);
    return this.adapters().find((a) => a.name === name) as AdapterInfo;
  }

  /**
   * Registers `source` as `name` and loads it for a base, all or nothing: when loading fails, the name is
   * unregistered again (or its previous registration restored) and the error is rethrown.
   */
  async addAdapter(name: string, source: AdapterSource, baseId?: string): Promise<AdapterInfo> {
    const baseKey = this.baseKey(baseId);
    const previous = this.adaptersById.snapshot(name);
    this.adaptersById.register(name, source);
    try {
      return await this.loadAdapter(name, baseKey);
    } catch (error) {
      this.adaptersById.unregister(name);
      if (previous) this.adaptersById.register(name, previous.source, previous.digest);
      throw error;
    }
  }

  /**
   * Drops an adapter from the cache (after the batches using it finish); `forget` also unregisters it.
   * Returns whether it was resident; throws `NotFound` for a name or digest the engine does not know.
   */
  unloadAdapter(nameOrDigest: string, options: { forget?: boolean } = {}): boolean {
    const name = this.adaptersById.resolve(nameOrDigest);
    const any = this.adaptersById.evict(name);
    if (options.forget) this.adaptersById.unregister(name);
    return any;
  }

  /** Runs one example through its base with its adapter; resolves when its batch is done. */
  async forward(req: ForwardRequest): Promise<ForwardResult> {
    const baseId = this.baseKey(req.base);
    const slot = this.bases.get(baseId) as BaseSlot;
    let base = slot.base;
    if (!base) {
      const loading = this.getBase(baseId);
      this.arriving.add(loading);
      try {
        base = await loading;
      } finally {
        this.arriving.delete(loading);
      }
    }
    return new Promise<ForwardResult>((resolve, reject) => {
      try {
        if (this.closed) throw new RuntimeError("Cancelled", "the engine is closed");
        if (req.signal?.aborted) throw new RuntimeError("Cancelled", "the request was cancelled before it was queued");
        const adapter =
          req.adapter === undefined || req.adapter === BASE_ADAPTER
            ? BASE_ADAPTER
            : this.adaptersById.resolve(req.adapter);
        const scale = req.scale ?? 1;
        if (!Number.isFinite(scale))
          throw new RuntimeError("InvalidArgument", `scale: expected a finite number, found ${scale}`);
        const shape = checkForwardInput(base, req.input, req.shape);
        // Causal sequence models batch lengths of one bucket together, right-padded: up to 16 tokens, then
        // powers of two (so past 16 at most half of a batch's positions are padding). Other bases batch
        // equal shapes only.
        const padded = Boolean(base.causalPadding) && shape.length === 1;
        const bucket = Math.max(16, 2 ** Math.ceil(Math.log2(shape[0] as number)));
        const shapeKey = padded ? `seq<=${bucket}` : shape.join("x");
        const key = [baseId, shapeKey, ...(this.mode === "merged" ? [adapter, scale] : [])].join("|");
        const p: Pending = {
          req,
          shape,
          baseId,
          adapter,
          scale,
          key,
          enqueuedAt: this.scheduler.now(),
          settled: false,
          resolve,
          reject,
          cleanup: () => {},
        };
        const onAbort = () => {
          this.scheduler.remove(p);
          this.settle(p, new RuntimeError("Cancelled", `request for adapter '${adapter}' was cancelled`));
        };
        req.signal?.addEventListener("abort", onAbort, { once: true });
        p.cleanup = () => req.signal?.removeEventListener("abort", onAbort);
        this.scheduler.push(p);
      } catch (error) {
        reject(error);
      }
    });
  }

  /** Starts every queued batch now and resolves when none is left (the only trigger with `flush: "manual"`). */
  async flush(): Promise<void> {
    while (this.arriving.size > 0) {
      await Promise.allSettled([...this.arriving]);
      await Promise.resolve(); // let the waiting forwards queue
    }
    return this.scheduler.flush();
  }

  /** Greedy decoding on a causal-LM base: each step is a forward that batches with other requests. */
  /**
   * Greedy or sampled generation by recomputing the sequence each step. Stops at `eosTokenId`
   * (`finishReason: "stop"`), after `maxNewTokens`, or when the base takes no longer sequence (its
   * context limit), both `finishReason: "length"`.
   */
  async generate(
    req: GenerateRequest,
  ): Promise<{ tokens: number[]; generated: number[]; finishReason: "stop" | "length" }> {
    const base = await this.getBase(req.base);
    if (base.kind !== "causal-lm")
      throw new RuntimeError(
        "InvalidArgument",
        `generate: expected a causal-lm base, found '${base.kind}' (${base.id})`,
      );
    validateSampling(req);
    checkForwardInput(base, req.inputIds); // the prompt is checked even when no step runs
    const rng = new Rng(req.seed ?? 0);
    const tokens = [...req.inputIds];
    const generated: number[] = [];
    // Each step is one forward request, so steps of concurrent generations (any adapter, any length within
    // a bucket) share batches. No KV cache here: each step re-reads the whole sequence.
    for (let step = 0; step < req.maxNewTokens; step++) {
      // The prompt was checked above; a longer sequence the base refuses is its context limit.
      if (step > 0 && base.checkInput?.([tokens.length]) !== undefined) break;
      const { data, shape } = await this.forward({ ...req, input: tokens, shape: [tokens.length] });
      const vocab = shape[shape.length - 1] as number;
      const next = sampleToken(data.subarray(data.length - vocab), req, () => rng.next());
      tokens.push(next);
      generated.push(next);
      if (next === req.eosTokenId) return { tokens, generated, finishReason: "stop" };
    }
    return { tokens, generated, finishReason: "length" };
  }

  // --- Hooks for the generation scheduler (packages/runtime/src/generation) ---

  /**
   * Pins an adapter's resident weights for a base (loading them if needed) until `release()`; `__base__`
   * (or undefined) pins nothing. The generation scheduler holds one per running sequence.
   */
  async holdAdapter(
    nameOrDigest: string | undefined,
    baseId?: string,
  ): Promise<{ name: string; adapter: ResidentAdapter | null; release: () => void }> {
    const baseKey = this.baseKey(baseId);
    if (nameOrDigest === undefined || nameOrDigest === BASE_ADAPTER)
      return { name: BASE_ADAPTER, adapter: null, release: () => {} };
    const name = this.adaptersById.resolve(nameOrDigest);
    const base = await this.getBase(baseKey);
    const adapter = await this.adaptersById.acquire(name, base, baseKey);
    let released = false;
    return {
      name,
      adapter,
      release: () => {
        if (released) return;
        released = true;
        this.adaptersById.release(name, baseKey);
      },
    };
  }

  /** How mixed batches get each row's LoRA term (the `kernel` option). */
  get loraKernel(): LoraBatchKernel {
    return this.gatherKernel;
  }

  /** The id of a base (`id` checked, or the only one when omitted). */
  resolveBase(id?: string): string {
    return this.baseKey(id);
  }

  /** Whether `nameOrDigest` names a registered adapter (or is `__base__`). */
  hasAdapter(nameOrDigest: string): boolean {
    if (nameOrDigest === BASE_ADAPTER) return true;
    try {
      this.adaptersById.resolve(nameOrDigest);
      return true;
    } catch {
      return false;
    }
  }

  stats(): EngineStats {
    let merges = 0;
    let unmerges = 0;
    for (const s of this.bases.values()) {
      merges += s.merged?.merges ?? 0;
      unmerges += s.merged?.unmerges ?? 0;
    }
    return { ...this.counters, merges, unmerges, queued: this.scheduler.size, cache: this.adaptersById.stats() };
  }

  /** Refuses new work, cancels what is queued, waits for the running batch, frees every tensor. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const left = await this.scheduler.close();
    for (const p of left) this.settle(p, new RuntimeError("Cancelled", "the engine is closing"));
    this.adaptersById.clear();
    for (const slot of this.bases.values()) {
      slot.merged?.unmerge();
      slot.base?.dispose();
      slot.base = undefined;
      slot.loading = undefined;
    }
  }

  private baseKey(id?: string): string {
    if (id === undefined) {
      if (this.bases.size !== 1)
        throw new RuntimeError(
          "InvalidArgument",
          `base: expected a base id (the engine holds ${this.bases.size} bases)`,
        );
      return this.bases.keys().next().value as string;
    }
    if (!this.bases.has(id))
      throw new RuntimeError(
        "NotFound",
        `base '${id}': expected one of [${[...this.bases.keys()].join(", ")}], found none`,
      );
    return id;
  }

  private settle(p: Pending, outcome: ForwardResult | unknown, ok = false): void {
    if (p.settled) return;
    p.settled = true;
    p.cleanup();
    if (ok) p.resolve(outcome as ForwardResult);
    else p.reject(outcome);
  }

  private async runBatch(items: Pending[]): Promise<void> {
    await Promise.resolve(); // let submitters of this tick finish before the batch starts
    const baseId = items[0]?.baseId as string;
    const names = [...new Set(items.filter((p) => !p.settled && p.adapter !== BASE_ADAPTER).map((p) => p.adapter))];
    const held = new Map<string, ResidentAdapter>();
    let base: ServableBase;
    try {
      base = await this.getBase(baseId);
    } catch (error) {
      for (const p of items) this.settle(p, error);
      return;
    }
    await Promise.all(
      names.map(async (name) => {
        try {
          held.set(name, await this.adaptersById.acquire(name, base, baseId));
        } catch (error) {
          for (const p of items) if (p.adapter === name) this.settle(p, error);
        }
      }),
    );
    for (const p of items) {
      // A scale that overflows float32 once multiplied by a module's alpha/r fails its own row only.
      const adapter = held.get(p.adapter);
      if (adapter && [...adapter.modules.values()].some((m) => !Number.isFinite(Math.fround(p.scale * m.scaling))))
        this.settle(p, nonFinite(p));
    }
    try {
      const rows = items.filter((p) => !p.settled);
      if (rows.length === 0) return;
      const slot = this.bases.get(baseId) as BaseSlot;
      const merged = this.mode === "merged" ? slot.merged : undefined;
      if (merged) {
        const first = rows[0] as Pending;
        const adapter = held.get(first.adapter) ?? null;
        merged.ensure(adapter, first.scale, adapter ? AdapterRegistry.key(baseId, first.adapter) : null);
      }
      const out = computeBatch(
        base,
        rows.map((p) => ({ input: p.req.input, shape: p.shape, adapter: held.get(p.adapter) ?? null, scale: p.scale })),
        { merged, kernel: this.gatherKernel },
      );
      const data = (await out.data()) as Float32Array;
      const parts = splitBatchOutput(
        base,
        data,
        out.shape,
        rows.map((p) => p.shape),
      );
      out.dispose();
      this.counters.batches++;
      this.counters.rows += rows.length;
      this.counters.largestBatch = Math.max(this.counters.largestBatch, rows.length);
      rows.forEach((p, i) => {
        const { values, shape } = parts[i] as { values: Float32Array; shape: number[] };
        if (!values.every(Number.isFinite)) {
          this.settle(p, nonFinite(p));
          return;
        }
        const result: ForwardResult = {
          data: Float32Array.from(values),
          shape,
          adapter: p.adapter,
          digest: held.get(p.adapter)?.digest,
          batchSize: rows.length,
        };
        this.settle(p, result, true);
      });
    } catch (error) {
      for (const p of items) this.settle(p, error);
    } finally {
      for (const name of held.keys()) this.adaptersById.release(name, baseId);
    }
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

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
