import { RuntimeError } from "../backend/errors.js";

/** Time source of the scheduler; tests inject one that they move by hand. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => (typeof performance !== "undefined" ? performance.now() : Date.now()),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export interface SchedulerOptions {
  maxBatchSize: number;
  maxWaitMs: number;
  maxQueued: number;
  /** `auto`: batches start when full or when the oldest item has waited `maxWaitMs`. `manual`: only `flush()` starts them. */
  flush: "auto" | "manual";
  clock: Clock;
}

/** What the scheduler queues: items with the same `key` may share a batch. */
export interface Schedulable {
  readonly key: string;
  readonly enqueuedAt: number;
}

/**
 * Dynamic batching: items queue by key; the oldest item's key forms the next batch (up to `maxBatchSize`
 * items of that key), started when it is full or when the oldest has waited `maxWaitMs`. One batch runs at
 * a time. With `flush: "manual"` nothing starts until `flush()`, so tests can fix batch composition
 * without depending on timing.
 */
export class BatchScheduler<T extends Schedulable> {
  private queue: T[] = [];
  private running: Promise<void> | null = null;
  private timer: unknown;
  private flushing = 0;
  private closed = false;

  constructor(
    private readonly opts: SchedulerOptions,
    private readonly run: (items: T[]) => Promise<void>,
  ) {}

  get size(): number {
    return this.queue.length;
  }

  now(): number {
    return this.opts.clock.now();
  }

  /** Queues an item, or throws `Overloaded` when the queue is full. */
  push(item: T): void {
    if (this.queue.length >= this.opts.maxQueued) {
      throw new RuntimeError(
        "Overloaded",
        `queue full: expected fewer than ${this.opts.maxQueued} waiting requests, found ${this.queue.length}`,
      );
    }
    this.queue.push(item);
    this.schedule();
  }

  /** Removes a queued item (a cancelled request); false when it already left the queue. */
  remove(item: T): boolean {
    const before = this.queue.length;
    this.queue = this.queue.filter((q) => q !== item);
    return this.queue.length !== before;
  }

  /** Runs every queued batch now (whatever the wait), and resolves when the queue is empty and nothing runs. */
  async flush(): Promise<void> {
    this.flushing++;
    try {
      for (;;) {
        if (this.running) await this.running;
        else if (this.queue.length > 0 && !this.closed) this.start();
        else return;
      }
    } finally {
      this.flushing--;
    }
  }

  /** Stops scheduling, returns what was queued (the caller settles it) and waits for the running batch. */
  async close(): Promise<T[]> {
    this.closed = true;
    this.opts.clock.clearTimeout(this.timer);
    this.timer = undefined;
    const left = this.queue;
    this.queue = [];
    await this.running;
    return left;
  }

  private schedule(): void {
    if (this.running || this.closed) return;
    const first = this.queue[0];
    if (!first) return;
    if (this.flushing > 0) {
      this.start();
      return;
    }
    if (this.opts.flush === "manual") return;
    let same = 0;
    for (const q of this.queue) if (q.key === first.key && ++same >= this.opts.maxBatchSize) break;
    const wait = first.enqueuedAt + this.opts.maxWaitMs - this.opts.clock.now();
    if (same >= this.opts.maxBatchSize || wait <= 0) this.start();
    else if (this.timer === undefined) {
      this.timer = this.opts.clock.setTimeout(() => {
        this.timer = undefined;
        this.schedule();
      }, wait);
    }
  }

  private start(): void {
    this.opts.clock.clearTimeout(this.timer);
    this.timer = undefined;
    const key = (this.queue[0] as T).key;
    const items: T[] = [];
    const rest: T[] = [];
    for (const q of this.queue) (q.key === key && items.length < this.opts.maxBatchSize ? items : rest).push(q);
    this.queue = rest;
    this.running = this.run(items).finally(() => {
      this.running = null;
      this.schedule();
    });
  }
}
