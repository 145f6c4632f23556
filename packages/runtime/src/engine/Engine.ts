import { registerLoraKernels } from "@lowrank/core";
import { isRuntimeError, RuntimeError } from "../backend/errors.js";
import { GenerationScheduler } from "../generation/GenerationScheduler.js";
import type { AdapterCacheStats } from "./AdapterCache.js";
import { type AdapterInfo, AdapterRegistry } from "./AdapterRegistry.js";
import { BatchScheduler, systemClock } from "./BatchScheduler.js";
import { checkForwardInput } from "./checkForwardInput.js";
import { type EngineGenerateResult, type GenerateRequest, generateOn } from "./engineGenerate.js";
import { type EngineOptions, type ResolvedEngineOptions, resolveEngineOptions } from "./engineOptions.js";
import { type ForwardBatchHost, type Pending, runForwardBatch, settle } from "./forwardBatch.js";
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
export type { EngineGenerateResult, GenerateRequest } from "./engineGenerate.js";
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
  private generationScheduler?: GenerationScheduler;
  /** Base loads that forwards wait on before they queue (so `flush` waits for them too). */
  private readonly arriving = new Set<Promise<unknown>>();
  private readonly counters = { baseLoads: 0, batches: 0, rows: 0, largestBatch: 0 };
  private readonly batchHost: ForwardBatchHost;

  constructor(options: EngineOptions = {}) {
    this.opts = resolveEngineOptions(options as Record<string, unknown>);
    this.mode = this.opts.mode;
    registerLoraKernels();
    this.gatherKernel = this.opts.kernel;
    this.adaptersById = new AdapterRegistry(this.opts.cacheBytes, options.loader, (baseId, key) =>
      this.bases.get(baseId)?.merged?.forget(key),
    );
    this.batchHost = {
      getBase: (id) => this.getBase(id),
      adapters: this.adaptersById,
      merged: (baseId) => (this.mode === "merged" ? this.bases.get(baseId)?.merged : undefined),
      kernel: this.gatherKernel,
      counters: this.counters,
    };
    this.scheduler = new BatchScheduler<Pending>({ ...this.opts, clock: options.clock ?? systemClock }, (items) =>
      runForwardBatch(this.batchHost, items),
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
          settle(p, new RuntimeError("Cancelled", `request for adapter '${adapter}' was cancelled`));
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

  /**
   * Greedy or sampled generation (see {@link generateOn}): KV-cached and continuously batched on
   * `generation` for GPT-2 LM heads, recomputing the sequence each step for other causal LMs.
   */
  async generate(req: GenerateRequest): Promise<EngineGenerateResult> {
    return generateOn(this, await this.getBase(req.base), req);
  }

  /**
   * The generation scheduler `generate` runs KV-cached requests on: the one given to
   * `useGenerationScheduler`, else one with default options made on first use. Closed with the engine.
   */
  get generation(): GenerationScheduler {
    if (this.closed) throw new RuntimeError("Cancelled", "the engine is closed");
    this.generationScheduler ??= new GenerationScheduler(this);
    return this.generationScheduler;
  }

  /**
   * Makes `generate` share `scheduler` (e.g. the OpenAI routes' one, with its KV budget), so every
   * generation of this engine batches together. Only before the engine's own scheduler was made.
   */
  useGenerationScheduler(scheduler: GenerationScheduler): void {
    if (scheduler.engine !== this)
      throw new RuntimeError("InvalidArgument", "scheduler: expected a generation scheduler of this engine");
    if (this.generationScheduler && this.generationScheduler !== scheduler)
      throw new RuntimeError(
        "InvalidArgument",
        "scheduler: expected to be set before the engine's first generation, found one in use",
      );
    this.generationScheduler = scheduler;
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
    await this.generationScheduler?.close();
    const left = await this.scheduler.close();
    for (const p of left) settle(p, new RuntimeError("Cancelled", "the engine is closing"));
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
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
