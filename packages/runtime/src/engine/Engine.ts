import { Rng, registerLoraKernels } from "@lowrank/core";
import * as tf from "@tensorflow/tfjs-core";
import { isRuntimeError, RuntimeError } from "../backend/errors.js";
import { type SamplingOptions, sampleToken, validateSampling } from "../models/sampleToken.js";
import { AdapterCache, type AdapterCacheStats } from "./AdapterCache.js";
import { coreBgmvKernel, type GatherLoraKernel, LoraBatchPlan } from "./LoraBatchPlan.js";
import { MergedWeights } from "./MergedWeights.js";
import { peftLoader } from "./peftLoader.js";
import { ResidentAdapter } from "./ResidentAdapter.js";
import {
  type AdapterLoader,
  type AdapterSource,
  type AdapterWeights,
  BASE_ADAPTER,
  type ForwardRequest,
  type ForwardResult,
  type LinearFn,
  type ServableBase,
} from "./types.js";

export interface EngineOptions {
  /** `unmerged` (default): many tenants per batch. `merged`: one hot adapter folded into the weights per batch. */
  mode?: "unmerged" | "merged";
  /** Most examples in one batch (default 32). */
  maxBatchSize?: number;
  /** Longest a request waits for others to share its batch (default 2 ms). */
  maxWaitMs?: number;
  /** Most requests waiting; more are refused with `Overloaded` (default 4096). */
  maxQueued?: number;
  /** Byte budget of resident adapters (default 256 MiB). Pinned adapters may exceed it briefly. */
  cacheBytes?: number;
  /** Turns an adapter source (folder, bytes) into weights (default: PEFT format); `custom` sources load themselves. */
  loader?: AdapterLoader;
  /**
   * Gathered LoRA kernel for heterogeneous batches. Default: @lowrank/core's `bgmv` (custom kernels on
   * cpu and webgpu, the fastest measured op composition on wasm). `"portable"`: stacked batched matmuls.
   */
  kernel?: GatherLoraKernel | "portable";
}

export interface AdapterInfo {
  name: string;
  digest?: string;
  source: AdapterSource["kind"];
  path?: string;
  /** Bases it is resident for, with its size and rank there. */
  loaded: Array<{ base: string; bytes: number; rank: number; pinned: number }>;
}

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
  /** The base batches right-padded sequences (`causalPadding`); known once loaded, or at once when given as an object. */
  padded?: boolean;
}

const SEP = "\u0000";

/**
 * Serves forward requests for many adapters over shared frozen bases. Each base is loaded once and
 * never copied; adapters load on demand into an LRU cache (byte budget, pinned while a batch uses
 * them); concurrent requests are batched dynamically, x·W computed once per batch and each row's LoRA
 * term added by a gathered kernel, so a row's output equals the same request run alone.
 */
export class Engine {
  readonly mode: "unmerged" | "merged";
  private readonly gatherKernel: GatherLoraKernel | undefined;
  private readonly opts: Required<Omit<EngineOptions, "loader" | "kernel" | "mode">>;
  private readonly bases = new Map<string, BaseSlot>();
  private readonly registry = new Map<string, { source: AdapterSource; digest?: string }>();
  private readonly digests = new Map<string, string>();
  private readonly cache: AdapterCache<ResidentAdapter>;
  private queue: Pending[] = [];
  private running: Promise<void> | null = null;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;
  private counters = { baseLoads: 0, batches: 0, rows: 0, largestBatch: 0 };

  constructor(private readonly options: EngineOptions = {}) {
    this.mode = options.mode ?? "unmerged";
    if (options.kernel === "portable") this.gatherKernel = undefined;
    else if (options.kernel) this.gatherKernel = options.kernel;
    else {
      registerLoraKernels();
      this.gatherKernel = coreBgmvKernel;
    }
    this.opts = {
      maxBatchSize: options.maxBatchSize ?? 32,
      maxWaitMs: options.maxWaitMs ?? 2,
      maxQueued: options.maxQueued ?? 4096,
      cacheBytes: options.cacheBytes ?? 256 * 2 ** 20,
    };
    this.cache = new AdapterCache<ResidentAdapter>(this.opts.cacheBytes, (key) => {
      const [baseId] = key.split(SEP);
      this.bases.get(baseId as string)?.merged?.forget(key);
    });
  }

  /** Registers a base under `id`; a function is called once, on first use. */
  addBase(id: string, base: ServableBase | (() => Promise<ServableBase> | ServableBase)): void {
    if (this.bases.has(id)) throw new RuntimeError("InvalidArgument", `base '${id}' is already registered`);
    if (typeof base === "function") this.bases.set(id, { load: base });
    else this.bases.set(id, { load: () => base, padded: Boolean(base.causalPadding) });
  }

  baseIds(): string[] {
    return [...this.bases.keys()];
  }

  /** The loaded base (loading it if needed); `id` may be omitted when there is exactly one. */
  async getBase(id?: string): Promise<ServableBase> {
    const slot = this.baseSlot(id);
    if (slot.base) return slot.base;
    slot.loading ??= (async () => {
      try {
        const base = await slot.load();
        this.counters.baseLoads++;
        slot.base = base;
        slot.padded = Boolean(base.causalPadding);
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
    if (!name || name === BASE_ADAPTER)
      throw new RuntimeError(
        "InvalidArgument",
        `adapter name: expected a non-empty name other than '${BASE_ADAPTER}', found '${name}'`,
      );
    const previous = this.registry.get(name);
    if (previous) this.unloadAdapter(name);
    this.registry.set(name, { source, digest: options.digest });
    if (options.digest) this.digests.set(options.digest, name);
  }

  adapters(): AdapterInfo[] {
    return [...this.registry].map(([name, entry]) => ({
      name,
      digest: entry.digest,
      source: entry.source.kind,
      path: entry.source.kind === "folder" ? entry.source.path : undefined,
      loaded: [...this.bases.keys()].flatMap((base) => {
        const key = base + SEP + name;
        const r = this.cache.peek(key);
        return r ? [{ base, bytes: r.bytes, rank: r.maxRank, pinned: this.cache.refs(key) }] : [];
      }),
    }));
  }

  /** Loads (prefetches) an adapter for a base so the first request does not wait for it. */
  async loadAdapter(nameOrDigest: string, baseId?: string): Promise<AdapterInfo> {
    const name = this.resolveAdapter(nameOrDigest);
    const baseKey = this.baseKey(baseId);
    const base = await this.getBase(baseKey);
    await this.cache.prefetch(baseKey + SEP + name, () => this.loadResident(name, base));
    return this.adapters().find((a) => a.name === name) as AdapterInfo;
  }

  /** Drops an adapter from the cache (after the batches using it finish); `forget` also unregisters it. */
  unloadAdapter(nameOrDigest: string, options: { forget?: boolean } = {}): boolean {
    const name = this.resolveAdapter(nameOrDigest);
    let any = false;
    for (const base of this.bases.keys()) any = this.cache.evict(base + SEP + name) || any;
    if (options.forget) {
      const digest = this.registry.get(name)?.digest;
      if (digest) this.digests.delete(digest);
      this.registry.delete(name);
    }
    return any;
  }

  /** Runs one example through its base with its adapter; resolves when its batch is done. */
  forward(req: ForwardRequest): Promise<ForwardResult> {
    return new Promise<ForwardResult>((resolve, reject) => {
      try {
        if (this.closed) throw new RuntimeError("Cancelled", "the engine is closed");
        if (req.signal?.aborted) throw new RuntimeError("Cancelled", "the request was cancelled before it was queued");
        if (this.queue.length >= this.opts.maxQueued) {
          throw new RuntimeError(
            "Overloaded",
            `queue full: expected fewer than ${this.opts.maxQueued} waiting requests, found ${this.queue.length}`,
          );
        }
        const baseId = this.baseKey(req.base);
        const adapter =
          req.adapter === undefined || req.adapter === BASE_ADAPTER ? BASE_ADAPTER : this.resolveAdapter(req.adapter);
        const scale = req.scale ?? 1;
        if (!Number.isFinite(scale))
          throw new RuntimeError("InvalidArgument", `scale: expected a finite number, found ${scale}`);
        const shape = req.shape ?? [req.input.length];
        const size = shape.reduce((a, b) => a * b, 1);
        if (!shape.every((d) => Number.isInteger(d) && d > 0) || size !== req.input.length) {
          throw new RuntimeError(
            "InvalidArgument",
            `input: expected ${size} values for shape [${shape}], found ${req.input.length}`,
          );
        }
        const problem = this.bases.get(baseId)?.base?.checkInput?.(shape);
        if (problem) throw new RuntimeError("InvalidArgument", problem);
        // Causal sequence models batch lengths of one bucket together, right-padded: up to 16 tokens, then
        // powers of two (so past 16 at most half of a batch's positions are padding). Other bases batch
        // equal shapes only.
        const padded = this.bases.get(baseId)?.padded && shape.length === 1;
        const bucket = Math.max(16, 2 ** Math.ceil(Math.log2(shape[0] as number)));
        const shapeKey = padded ? `seq<=${bucket}` : shape.join("x");
        const key = [baseId, shapeKey, ...(this.mode === "merged" ? [adapter, scale] : [])].join("|");
        const p: Pending = {
          req: { ...req, shape },
          baseId,
          adapter,
          scale,
          key,
          enqueuedAt: now(),
          settled: false,
          resolve,
          reject,
          cleanup: () => {},
        };
        const onAbort = () => {
          this.queue = this.queue.filter((q) => q !== p);
          this.settle(p, new RuntimeError("Cancelled", `request for adapter '${adapter}' was cancelled`));
        };
        req.signal?.addEventListener("abort", onAbort, { once: true });
        p.cleanup = () => req.signal?.removeEventListener("abort", onAbort);
        this.queue.push(p);
        this.schedule();
      } catch (error) {
        reject(error);
      }
    });
  }

  /** Greedy decoding on a causal-LM base: each step is a forward that batches with other requests. */
  async generate(req: GenerateRequest): Promise<{ tokens: number[]; generated: number[] }> {
    const base = await this.getBase(req.base);
    if (base.kind !== "causal-lm")
      throw new RuntimeError(
        "InvalidArgument",
        `generate: expected a causal-lm base, found '${base.kind}' (${base.id})`,
      );
    validateSampling(req);
    const rng = new Rng(req.seed ?? 0);
    const tokens = [...req.inputIds];
    const generated: number[] = [];
    // Each step is one forward request, so steps of concurrent generations (any adapter, any length within
    // a bucket) share batches. No KV cache here: each step re-reads the whole sequence.
    for (let step = 0; step < req.maxNewTokens; step++) {
      const { data, shape } = await this.forward({ ...req, input: tokens, shape: [tokens.length] });
      const vocab = shape[shape.length - 1] as number;
      const next = sampleToken(data.subarray(data.length - vocab), req, () => rng.next());
      tokens.push(next);
      generated.push(next);
      if (next === req.eosTokenId) break;
    }
    return { tokens, generated };
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
    const name = this.resolveAdapter(nameOrDigest);
    const base = await this.getBase(baseKey);
    const key = baseKey + SEP + name;
    const adapter = await this.cache.acquire(key, () => this.loadResident(name, base));
    let released = false;
    return {
      name,
      adapter,
      release: () => {
        if (released) return;
        released = true;
        this.cache.release(key);
      },
    };
  }

  /** The gathered LoRA kernel mixed batches use (undefined: the portable stacked path). */
  get loraKernel(): GatherLoraKernel | undefined {
    return this.gatherKernel;
  }

  /** The id of a base (`id` checked, or the only one when omitted). */
  resolveBase(id?: string): string {
    return this.baseKey(id);
  }

  /** Whether `nameOrDigest` names a registered adapter (or is `__base__`). */
  hasAdapter(nameOrDigest: string): boolean {
    return nameOrDigest === BASE_ADAPTER || this.registry.has(nameOrDigest) || this.digests.has(nameOrDigest);
  }

  stats(): EngineStats {
    let merges = 0;
    let unmerges = 0;
    for (const s of this.bases.values()) {
      merges += s.merged?.merges ?? 0;
      unmerges += s.merged?.unmerges ?? 0;
    }
    return { ...this.counters, merges, unmerges, queued: this.queue.length, cache: this.cache.stats() };
  }

  /** Refuses new work, cancels what is queued, waits for the running batch, frees every tensor. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    for (const p of this.queue) this.settle(p, new RuntimeError("Cancelled", "the engine is closing"));
    this.queue = [];
    await this.running;
    this.cache.clear();
    for (const slot of this.bases.values()) {
      slot.merged?.unmerge();
      slot.base?.dispose();
      slot.base = undefined;
      slot.loading = undefined;
    }
  }

  private baseSlot(id?: string): BaseSlot {
    const slot = this.bases.get(this.baseKey(id));
    return slot as BaseSlot;
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

  private resolveAdapter(nameOrDigest: string): string {
    if (this.registry.has(nameOrDigest)) return nameOrDigest;
    const byDigest = this.digests.get(nameOrDigest);
    if (byDigest) return byDigest;
    throw new RuntimeError(
      "NotFound",
      `adapter '${nameOrDigest}': expected a registered adapter name or digest, found none`,
    );
  }

  private async loadResident(name: string, base: ServableBase): Promise<ResidentAdapter> {
    const entry = this.registry.get(name);
    if (!entry) throw new RuntimeError("NotFound", `adapter '${name}' is not registered`);
    let weights: AdapterWeights;
    try {
      if (entry.source.kind === "custom") weights = await entry.source.load(base);
      else weights = await (this.options.loader ?? peftLoader)(entry.source, { name, base });
    } catch (error) {
      if (
        isRuntimeError(error) &&
        (error.code === "AdapterMismatch" || error.code === "AdapterLoadFailed") &&
        error.adapter === name
      )
        throw error;
      const code = (error as { code?: unknown })?.code;
      throw new RuntimeError(
        "AdapterLoadFailed",
        `adapter '${name}': ${errorText(error)}${typeof code === "string" ? ` (${code})` : ""}`,
        { cause: error },
      );
    }
    const resident = ResidentAdapter.fromWeights(name, { ...weights, digest: weights.digest ?? entry.digest }, base);
    if (resident.digest && this.registry.get(name) === entry) {
      entry.digest = resident.digest;
      this.digests.set(resident.digest, name);
    }
    return resident;
  }

  private settle(p: Pending, outcome: ForwardResult | unknown, ok = false): void {
    if (p.settled) return;
    p.settled = true;
    p.cleanup();
    if (ok) p.resolve(outcome as ForwardResult);
    else p.reject(outcome);
  }

  private schedule(): void {
    if (this.running || this.closed) return;
    const first = this.queue[0];
    if (!first) return;
    let same = 0;
    for (const q of this.queue) if (q.key === first.key && ++same >= this.opts.maxBatchSize) break;
    const wait = first.enqueuedAt + this.opts.maxWaitMs - now();
    if (same >= this.opts.maxBatchSize || wait <= 0) {
      clearTimeout(this.timer);
      this.timer = undefined;
      const items = this.takeBatch(first.key);
      this.running = this.runBatch(items).finally(() => {
        this.running = null;
        this.schedule();
      });
    } else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.schedule();
      }, wait);
    }
  }

  private takeBatch(key: string): Pending[] {
    const items: Pending[] = [];
    const rest: Pending[] = [];
    for (const q of this.queue) (q.key === key && items.length < this.opts.maxBatchSize ? items : rest).push(q);
    this.queue = rest;
    return items;
  }

  private async runBatch(items: Pending[]): Promise<void> {
    await Promise.resolve(); // let submitters of this tick finish before the batch starts
    const names = [...new Set(items.filter((p) => !p.settled && p.adapter !== BASE_ADAPTER).map((p) => p.adapter))];
    const held = new Map<string, ResidentAdapter>();
    let base: ServableBase;
    try {
      base = await this.getBase(items[0]?.baseId);
    } catch (error) {
      for (const p of items) this.settle(p, error);
      return;
    }
    const keyOf = (name: string) => (items[0]?.baseId as string) + SEP + name;
    await Promise.all(
      names.map(async (name) => {
        try {
          held.set(name, await this.cache.acquire(keyOf(name), () => this.loadResident(name, base)));
        } catch (error) {
          for (const p of items) if (p.adapter === name) this.settle(p, error);
        }
      }),
    );
    try {
      const rows = items.filter((p) => !p.settled);
      if (rows.length === 0) return;
      const out = this.compute(base, rows, held, keyOf);
      const data = (await out.data()) as Float32Array;
      const outShape = out.shape;
      out.dispose();
      const per = data.length / rows.length;
      // Right-padded sequences: keep each row's own positions (outputs are [batch, seq, ...]).
      const seqOut = Boolean(base.causalPadding) && outShape.length >= 2;
      const perPos = seqOut ? per / (outShape[1] as number) : per;
      this.counters.batches++;
      this.counters.rows += rows.length;
      this.counters.largestBatch = Math.max(this.counters.largestBatch, rows.length);
      rows.forEach((p, i) => {
        const len = seqOut ? (p.req.shape?.[0] as number) : 0;
        const result: ForwardResult = {
          data: Float32Array.from(data.subarray(i * per, i * per + (seqOut ? len * perPos : per))),
          shape: seqOut ? [len, ...outShape.slice(2)] : outShape.slice(1),
          adapter: p.adapter,
          digest: held.get(p.adapter)?.digest,
          batchSize: rows.length,
        };
        this.settle(p, result, true);
      });
    } catch (error) {
      for (const p of items) this.settle(p, error);
    } finally {
      for (const name of held.keys()) this.cache.release(keyOf(name));
    }
  }

  private compute(
    base: ServableBase,
    rows: Pending[],
    held: Map<string, ResidentAdapter>,
    keyOf: (n: string) => string,
  ): tf.Tensor {
    const slot = this.bases.get(rows[0]?.baseId as string) as BaseSlot;
    const merged = this.mode === "merged" ? slot.merged : undefined;
    if (merged) {
      const first = rows[0] as Pending;
      merged.ensure(
        held.get(first.adapter) ?? null,
        first.scale,
        first.adapter === BASE_ADAPTER ? null : keyOf(first.adapter),
      );
    }
    return tf.tidy(() => {
      let shape = rows[0]?.req.shape as number[];
      if (base.causalPadding && shape.length === 1) shape = [Math.max(...rows.map((p) => p.req.input.length))];
      const size = shape.reduce((a, b) => a * b, 1);
      const flat =
        base.inputDtype === "int32" ? new Int32Array(rows.length * size) : new Float32Array(rows.length * size);
      if (base.causalPadding) flat.fill(base.causalPadding.padId);
      rows.forEach((p, i) => {
        flat.set(p.req.input as ArrayLike<number>, i * size);
      });
      const input = tf.tensor(flat, [rows.length, ...shape], base.inputDtype);
      const plan = merged
        ? null
        : new LoraBatchPlan(
            rows.map((p) => ({ modules: held.get(p.adapter)?.modules ?? null, scale: p.scale })),
            this.gatherKernel,
          );
      const linear: LinearFn = (name, x) => {
        const mod = base.linearModules.get(name);
        if (!mod) throw new RuntimeError("InvalidArgument", `base '${base.id}' has no linear module '${name}'`);
        const lead = x.shape.slice(0, -1);
        const x2 = tf.reshape(x, [-1, mod.inFeatures]) as tf.Tensor2D;
        let y: tf.Tensor2D = tf.matMul(x2, merged?.weight(name) ?? mod.weight, false, mod.layout === "out_in");
        if (mod.bias) y = tf.add(y, mod.bias);
        const delta = plan?.delta(name, x2, mod.outFeatures);
        if (delta) y = tf.add(y, delta);
        return tf.reshape(y, [...lead, mod.outFeatures]);
      };
      const out = base.forward(input, linear);
      return out.dtype === "float32" ? out : tf.cast(out, "float32");
    });
  }
}

function now(): number {
  return typeof performance !== "undefined" ? performance.now() : Date.now();
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
