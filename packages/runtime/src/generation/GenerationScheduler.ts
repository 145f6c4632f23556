import type * as tf from "@tensorflow/tfjs-core";
import { RuntimeError } from "../backend/errors.js";
import type { Engine } from "../engine/Engine.js";
import { LoraBatchPlan } from "../engine/LoraBatchPlan.js";
import type { ResidentAdapter } from "../engine/ResidentAdapter.js";
import { BASE_ADAPTER } from "../engine/types.js";
import { BatchKv } from "./BatchKv.js";
import { checkRequest, reservation } from "./checkRequest.js";
import { disposeSequenceKv, type KvDecoder, kvDecoderFor, type SequenceKv } from "./KvDecoder.js";
import { mixedLinear } from "./mixedLinear.js";
import { StackedLora } from "./StackedLora.js";
import type { FinishReason, GenerationRequest, GenerationResult, SchedulerOptions, SchedulerStats } from "./types.js";

export type { FinishReason, GenerationRequest, GenerationResult, SchedulerOptions, SchedulerStats };

import { Sampler } from "./sampler.js";

/** Distinct adapters in a decode batch from which stacked per-row adapters beat the gathered kernel. */
const STACK_FROM_ADAPTERS = 12;

interface Sequence {
  req: GenerationRequest;
  baseId: string;
  reserved: number;
  sampler: { next(logits: Float32Array): number };
  generated: number[];
  hold?: { name: string; adapter: ResidentAdapter | null; release: () => void };
  kv?: SequenceKv;
  admitted: boolean;
  cancelled: boolean;
  done: boolean;
  resolve: (r: GenerationResult) => void;
  reject: (e: unknown) => void;
  detach: () => void;
}

/**
 * Continuous (iteration-level) batching of KV-cached generation over an {@link Engine}'s bases and
 * adapters, as vLLM and LoRAX do it. Each step prefills newly admitted prompts, then decodes one token
 * for every running sequence in one batch whatever its adapter (x·W once, each row's LoRA term by the
 * gathered kernel). Sequences join after their prefill and leave when they finish, so a long request
 * never holds short ones back. KV caches are bounded by a byte budget: past it requests wait; past
 * `maxQueued` waiting they are refused (`Overloaded`).
 */
export class GenerationScheduler {
  private readonly opts: Required<SchedulerOptions>;
  private waiting: Sequence[] = [];
  private running: Sequence[] = [];
  private reservedBytes = 0;
  private loop: Promise<void> | null = null;
  private closed = false;
  private readonly decoders = new Map<string, KvDecoder>();
  /** Per base, the batch cache of the running sequences, rows in `seqs` order. */
  private readonly batches = new Map<string, { kv: BatchKv; seqs: Sequence[] }>();
  /** Per base, the stacked adapters of the decode batch while its rows stay the same (many adapters only). */
  private readonly stacked = new Map<string, StackedLora>();
  private counters = { steps: 0, prefills: 0, tokens: 0, largestStep: 0 };

  constructor(
    /** The engine whose bases and adapters this scheduler runs. */
    readonly engine: Engine,
    options: SchedulerOptions = {},
  ) {
    this.opts = {
      kvBytes: options.kvBytes ?? 256 * 2 ** 20,
      maxRunning: options.maxRunning ?? 64,
      maxQueued: options.maxQueued ?? 256,
      maxPrefill: options.maxPrefill ?? 8,
    };
  }

  /** Queues a generation; resolves when it finishes (tokens stream through `onToken` meanwhile). */
  async generate(req: GenerationRequest): Promise<GenerationResult> {
    if (this.closed) throw new RuntimeError("Cancelled", "the generation scheduler is closed");
    if (req.signal?.aborted) throw new RuntimeError("Cancelled", "the request was cancelled before it was queued");
    const baseId = this.engine.resolveBase(req.base);
    const decoder = await this.decoder(baseId);
    if (req.adapter !== undefined && !this.engine.hasAdapter(req.adapter))
      throw new RuntimeError(
        "NotFound",
        `adapter '${req.adapter}': expected a registered adapter name or digest, found none`,
      );
    const { scale, reserved } = checkRequest(req, decoder, this.opts.kvBytes);
    const sampler = req.pickToken ? { next: req.pickToken } : new Sampler(req);
    if (this.waiting.length >= this.opts.maxQueued)
      throw new RuntimeError(
        "Overloaded",
        `generation queue full: expected fewer than ${this.opts.maxQueued} waiting requests, found ${this.waiting.length}`,
      );
    return new Promise<GenerationResult>((resolve, reject) => {
      const seq: Sequence = {
        req: { ...req, scale },
        baseId,
        reserved,
        sampler,
        generated: [],
        admitted: false,
        cancelled: false,
        done: false,
        resolve,
        reject,
        detach: () => {},
      };
      const onAbort = () => {
        seq.cancelled = true;
        // Waiting requests leave at once; running ones at the start of the next step.
        if (this.waiting.includes(seq)) {
          this.waiting = this.waiting.filter((s) => s !== seq);
          this.finish(seq, new RuntimeError("Cancelled", "the request was cancelled while waiting"));
        }
      };
      req.signal?.addEventListener("abort", onAbort, { once: true });
      seq.detach = () => req.signal?.removeEventListener("abort", onAbort);
      this.waiting.push(seq);
      this.kick();
    });
  }

  /**
   * Whether a request of `promptLength` tokens and `maxNewTokens` on `base` reserves no more KV bytes
   * than the whole budget, so it can run once others free theirs; `generate` refuses it otherwise
   * (`InvalidArgument`). `Engine.generate` recomputes such requests instead.
   */
  async fitsKvBudget(base: string | undefined, promptLength: number, maxNewTokens: number): Promise<boolean> {
    const decoder = await this.decoder(this.engine.resolveBase(base));
    return reservation(decoder, promptLength, maxNewTokens).reserved <= this.opts.kvBytes;
  }

  stats(): SchedulerStats {
    return {
      running: this.running.length,
      waiting: this.waiting.length,
      kvBytesReserved: this.reservedBytes,
      ...this.counters,
    };
  }

  /** Refuses new work, cancels waiting and running sequences, frees their caches. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.loop;
    const error = new RuntimeError("Cancelled", "the generation scheduler is closing");
    for (const s of [...this.waiting, ...this.running]) this.finish(s, error);
    this.waiting = [];
    this.running = [];
    for (const id of [...this.batches.keys()]) this.dropBatch(id);
    for (const dec of this.decoders.values()) dec.dispose();
    this.decoders.clear();
  }

  private async decoder(baseId: string): Promise<KvDecoder> {
    const known = this.decoders.get(baseId);
    if (known) return known;
    const base = await this.engine.getBase(baseId);
    const dec = kvDecoderFor(base);
    if (!dec)
      throw new RuntimeError(
        "InvalidArgument",
        `generate: expected a causal LM with a KV-cached path (GPT-2 with an LM head), found '${base.kind}' base '${baseId}'`,
      );
    this.decoders.set(baseId, dec);
    return dec;
  }

  private kick(): void {
    if (this.loop || this.closed) return;
    this.loop = this.run().finally(() => {
      this.loop = null;
      if (!this.closed && (this.waiting.length || this.running.length)) this.kick();
    });
  }

  private async run(): Promise<void> {
    while (!this.closed && (this.waiting.length || this.running.length)) {
      this.running = this.running.filter((s) => {
        if (s.cancelled) this.finish(s, new RuntimeError("Cancelled", "the request was cancelled"));
        return !s.done;
      });
      const admitted = this.admit();
      if (admitted.length) await this.prefill(admitted);
      if (this.running.length) await this.decodeStep();
      else if (!admitted.length) break; // everything waiting needs more KV budget than is free: nothing runs, nothing frees it
      // Let requests arrive, streams flush and disconnects register between steps.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    if (!this.running.length) {
      for (const id of [...this.batches.keys()]) this.dropBatch(id);
    }
  }

  /** Takes waiting sequences in order while slots and KV budget allow (first come, first served). */
  private admit(): Sequence[] {
    const out: Sequence[] = [];
    while (this.waiting.length && out.length < this.opts.maxPrefill) {
      const next = this.waiting[0] as Sequence;
      if (this.running.length + out.length >= this.opts.maxRunning) break;
      if (this.reservedBytes + next.reserved > this.opts.kvBytes) break;
      this.waiting.shift();
      this.reservedBytes += next.reserved;
      next.admitted = true;
      out.push(next);
    }
    return out;
  }

  private async prefill(seqs: Sequence[]): Promise<void> {
    await Promise.all(
      seqs.map(async (s) => {
        try {
          s.hold = await this.engine.holdAdapter(s.req.adapter, s.baseId);
        } catch (error) {
          this.finish(s, error);
        }
      }),
    );
    const byBase = groupBy(
      seqs.filter((s) => !s.done),
      (s) => s.baseId,
    );
    for (const [baseId, group] of byBase) {
      const dec = this.decoders.get(baseId) as KvDecoder;
      const base = await this.engine.getBase(baseId);
      let logits: tf.Tensor2D;
      try {
        const plan = this.plan(group);
        const r = dec.prefill(
          group.map((s) => s.req.promptIds),
          mixedLinear(base, plan, (n, m) => dec.weight(n, m)),
        );
        logits = r.logits;
        group.forEach((s, i) => {
          s.kv = r.caches[i];
        });
      } catch (error) {
        for (const s of group) this.finish(s, error);
        continue;
      }
      this.counters.prefills++;
      const data = (await logits.data()) as Float32Array;
      logits.dispose();
      group.forEach((s, i) => {
        if (!s.done) this.accept(s, dec, data.subarray(i * dec.vocabSize, (i + 1) * dec.vocabSize));
        if (!s.done) this.running.push(s);
      });
    }
  }

  private async decodeStep(): Promise<void> {
    for (const [baseId, group] of groupBy(this.running, (s) => s.baseId)) {
      const dec = this.decoders.get(baseId) as KvDecoder;
      const base = await this.engine.getBase(baseId);
      // Bring the batch cache in line with the running set: finished rows leave, prefilled ones join.
      let b = this.batches.get(baseId);
      if (!b) {
        b = { kv: new BatchKv(), seqs: [] };
        this.batches.set(baseId, b);
      }
      const keep: number[] = [];
      b.seqs.forEach((s, i) => {
        if (!s.done) keep.push(i);
      });
      b.kv.retain(keep);
      b.seqs = keep.map((i) => b.seqs[i] as Sequence);
      const joining = group.filter((s) => s.kv);
      b.kv.join(joining.map((s) => s.kv as SequenceKv));
      for (const s of joining) s.kv = undefined; // owned by the batch cache now
      b.seqs.push(...joining);
      const rows = b.seqs;
      let logits: tf.Tensor2D;
      try {
        logits = dec.decodeBatch(
          rows.map((s) => s.generated[s.generated.length - 1] as number),
          b.kv,
          mixedLinear(base, this.decodePlan(baseId, rows), (n, m) => dec.weight(n, m)),
        );
      } catch (error) {
        for (const s of rows) this.finish(s, error);
        this.dropBatch(baseId);
        continue;
      }
      this.counters.steps++;
      this.counters.largestStep = Math.max(this.counters.largestStep, rows.length);
      const data = (await logits.data()) as Float32Array;
      logits.dispose();
      rows.forEach((s, i) => {
        if (!s.done) this.accept(s, dec, data.subarray(i * dec.vocabSize, (i + 1) * dec.vocabSize), b.kv.lengths[i]);
      });
    }
    this.running = this.running.filter((s) => !s.done);
  }

  private dropBatch(baseId: string): void {
    this.batches.get(baseId)?.kv.dispose();
    this.batches.delete(baseId);
    this.stacked.get(baseId)?.dispose();
    this.stacked.delete(baseId);
  }

  /**
   * The LoRA plan of a decode step: with many distinct adapters, per-row stacked adapters kept while the
   * rows stay the same (their cost does not grow with the adapter count); otherwise the engine's
   * gathered kernel, whose few ops per adapter are cheaper up to about a dozen adapters (measured).
   */
  private decodePlan(baseId: string, rows: Sequence[]): LoraBatchPlan | StackedLora {
    const distinct = new Set(rows.map((s) => s.hold?.adapter).filter((a) => a)).size;
    if (distinct < STACK_FROM_ADAPTERS) return this.plan(rows);
    const key = rows.map((s) => `${s.hold?.name}\u0000${s.req.scale}`).join("\u0001");
    const current = this.stacked.get(baseId);
    if (current?.key === key) return current;
    current?.dispose();
    const next = new StackedLora(
      rows.map((s) => ({ modules: s.hold?.adapter?.modules ?? null, scale: s.req.scale ?? 1 })),
      key,
    );
    this.stacked.set(baseId, next);
    return next;
  }

  private plan(group: Sequence[]): LoraBatchPlan {
    return new LoraBatchPlan(
      group.map((s) => ({ modules: s.hold?.adapter?.modules ?? null, scale: s.req.scale ?? 1 })),
      this.engine.loraKernel,
    );
  }

  /** Samples the next token from `logits`, streams it, and finishes the sequence when a stop rule says so. */
  private accept(s: Sequence, dec: KvDecoder, logits: Float32Array, cached = s.kv?.length ?? 0): void {
    if (s.cancelled) {
      this.finish(s, new RuntimeError("Cancelled", "the request was cancelled"));
      return;
    }
    if (!allFinite(logits)) {
      this.finish(s, nonFinite(s));
      return;
    }
    const token = s.sampler.next(logits);
    s.generated.push(token);
    this.counters.tokens++;
    let verdict: "stop" | undefined;
    try {
      verdict = s.req.onToken?.(token, s.generated.length - 1);
    } catch (error) {
      this.finish(s, error);
      return;
    }
    const eos = s.req.eosTokenId === undefined ? dec.eosTokenId : (s.req.eosTokenId ?? undefined);
    let reason: FinishReason | undefined;
    if (verdict === "stop") reason = "stop";
    else if (token === eos) reason = "eos";
    else if (s.generated.length >= s.req.maxNewTokens) reason = "length";
    else if (cached >= dec.maxPositions) reason = "context";
    if (reason)
      this.finish(s, {
        adapter: s.hold?.name ?? BASE_ADAPTER,
        promptTokens: s.req.promptIds.length,
        tokens: s.generated,
        finishReason: reason,
      });
  }

  private finish(s: Sequence, outcome: GenerationResult | unknown): void {
    if (s.done) return;
    s.done = true;
    s.detach();
    disposeSequenceKv(s.kv);
    s.kv = undefined;
    s.hold?.release();
    if (s.admitted) this.reservedBytes -= s.reserved;
    s.admitted = false;
    if (isResult(outcome)) s.resolve(outcome);
    else s.reject(outcome);
  }
}

function allFinite(values: Float32Array): boolean {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i] as number)) return false;
  return true;
}

/** A row whose logits overflowed: its scale is too large for float32 (as `Engine.forward` answers). */
function nonFinite(s: Sequence): RuntimeError {
  return new RuntimeError(
    "InvalidArgument",
    s.req.adapter !== undefined && s.req.adapter !== BASE_ADAPTER && s.req.scale !== 1
      ? `scale: expected a scale whose output is finite in float32, found ${s.req.scale} (the output holds NaN or Inf)`
      : "prompt: expected a prompt whose logits are finite in float32, found NaN or Inf",
  );
}

function isResult(x: unknown): x is GenerationResult {
  return typeof x === "object" && x !== null && "finishReason" in x && "tokens" in x;
}

function groupBy<T>(items: T[], key: (t: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const it of items) {
    const k = key(it);
    const list = m.get(k);
    if (list) list.push(it);
    else m.set(k, [it]);
  }
  return m;
}
