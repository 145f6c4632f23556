import { describe, expect, it } from "vitest";
import { BatchScheduler, type Clock } from "./BatchScheduler.js";

/** A clock moved by hand: timers fire only inside `advance`. */
class ManualClock implements Clock {
  time = 0;
  private timers: Array<{ at: number; fn: () => void; id: number }> = [];
  private next = 0;
  now(): number {
    return this.time;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.next;
    this.timers.push({ at: this.time + ms, fn, id });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((t) => t.id !== handle);
  }
  get pending(): number {
    return this.timers.length;
  }
  advance(ms: number): void {
    this.time += ms;
    const due = this.timers.filter((t) => t.at <= this.time);
    this.timers = this.timers.filter((t) => t.at > this.time);
    for (const t of due) t.fn();
  }
}

interface Item {
  key: string;
  enqueuedAt: number;
  id: number;
}

function setup(opts: { maxBatchSize: number; maxWaitMs: number; flush?: "auto" | "manual" }) {
  const clock = new ManualClock();
  const batches: number[][] = [];
  const scheduler = new BatchScheduler<Item>(
    { maxQueued: 100, flush: opts.flush ?? "auto", clock, ...opts },
    async (items) => {
      batches.push(items.map((i) => i.id));
    },
  );
  let id = 0;
  const push = (key = "k") => scheduler.push({ key, enqueuedAt: clock.now(), id: id++ });
  return { clock, batches, scheduler, push };
}

describe("BatchScheduler", () => {
  it("with an injected clock: waits maxWaitMs for batch mates, then runs them as one batch", async () => {
    const { clock, batches, scheduler, push } = setup({ maxBatchSize: 8, maxWaitMs: 10 });
    push();
    clock.advance(4);
    push();
    push("other");
    clock.advance(5); // 9 ms: not yet
    await Promise.resolve();
    expect(batches).toEqual([]);
    expect(clock.pending).toBe(1);
    clock.advance(1); // 10 ms: the oldest item's wait is over
    await scheduler.flush(); // waits for the running batch; the other key is due too (waited 6 ms, but flush runs all)
    expect(batches).toEqual([[0, 1], [2]]);
  });

  it("a full batch starts at once without waiting; the rest waits for its own deadline", async () => {
    const { clock, batches, scheduler, push } = setup({ maxBatchSize: 2, maxWaitMs: 1000 });
    push();
    push();
    push();
    await Promise.resolve();
    expect(batches).toEqual([[0, 1]]);
    clock.advance(999);
    await Promise.resolve();
    await Promise.resolve();
    expect(batches).toEqual([[0, 1]]);
    clock.advance(1);
    await scheduler.flush();
    expect(batches).toEqual([[0, 1], [2]]);
  });

  it("manual flush: nothing runs until flush(), which drains every key in maxBatchSize pieces", async () => {
    const { clock, batches, scheduler, push } = setup({ maxBatchSize: 3, maxWaitMs: 0, flush: "manual" });
    for (let i = 0; i < 7; i++) push(i % 2 ? "odd" : "even");
    clock.advance(10_000);
    await Promise.resolve();
    expect(batches).toEqual([]);
    expect(scheduler.size).toBe(7);
    await scheduler.flush();
    expect(batches).toEqual([[0, 2, 4], [1, 3, 5], [6]]);
    expect(scheduler.size).toBe(0);
  });

  it("refuses past maxQueued with Overloaded and close hands back what was queued", async () => {
    const clock = new ManualClock();
    const s = new BatchScheduler<Item>(
      { maxBatchSize: 4, maxWaitMs: 5, maxQueued: 2, flush: "manual", clock },
      async () => {},
    );
    s.push({ key: "k", enqueuedAt: 0, id: 1 });
    s.push({ key: "k", enqueuedAt: 0, id: 2 });
    expect(() => s.push({ key: "k", enqueuedAt: 0, id: 3 })).toThrow(
      expect.objectContaining({ code: "Overloaded" }) as Error,
    );
    expect((await s.close()).map((i) => i.id)).toEqual([1, 2]);
  });
});

describe("BatchScheduler under random pushes, clock moves and flushes (fast-check)", () => {
  it("runs every item exactly once, in batches of one key, at most maxBatchSize, oldest first", async () => {
    const { default: fc } = await import("fast-check");
    const step = fc.oneof(
      fc.record({ kind: fc.constant("push" as const), key: fc.constantFrom("a", "b", "c") }),
      fc.record({ kind: fc.constant("advance" as const), ms: fc.integer({ min: 0, max: 12 }) }),
      fc.record({ kind: fc.constant("flush" as const) }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 0, max: 10 }),
        fc.constantFrom("auto" as const, "manual" as const),
        fc.array(step, { maxLength: 40 }),
        async (maxBatchSize, maxWaitMs, flush, steps) => {
          const clock = new ManualClock();
          const batches: Item[][] = [];
          const s = new BatchScheduler<Item>(
            { maxBatchSize, maxWaitMs, maxQueued: 1000, flush, clock },
            async (items) => {
              batches.push(items);
            },
          );
          const pushed: Item[] = [];
          for (const st of steps) {
            if (st.kind === "push") {
              const item = { key: st.key, enqueuedAt: clock.now(), id: pushed.length };
              pushed.push(item);
              s.push(item);
            } else if (st.kind === "advance") clock.advance(st.ms);
            else await s.flush();
            await Promise.resolve();
          }
          await s.flush();
          const ran = batches.flat().map((i) => i.id);
          expect([...ran].sort((x, y) => x - y)).toEqual(pushed.map((i) => i.id));
          for (const b of batches) {
            expect(b.length).toBeGreaterThan(0);
            expect(b.length).toBeLessThanOrEqual(maxBatchSize);
            expect(new Set(b.map((i) => i.key)).size).toBe(1);
          }
          // within one key, items run in the order they were pushed
          for (const key of ["a", "b", "c"]) {
            const order = batches
              .flat()
              .filter((i) => i.key === key)
              .map((i) => i.id);
            expect(order).toEqual([...order].sort((x, y) => x - y));
          }
        },
      ),
      { numRuns: 200, seed: 11 },
    );
  });
});
