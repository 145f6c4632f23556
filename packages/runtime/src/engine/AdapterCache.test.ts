import { describe, expect, it } from "vitest";
import { AdapterCache } from "./AdapterCache.js";

class Item {
  disposed = false;
  constructor(readonly bytes: number) {}
  dispose() {
    this.disposed = true;
  }
}

const loader = (bytes: number, log: string[], key: string) => async () => {
  log.push(key);
  return new Item(bytes);
};

describe("AdapterCache", () => {
  it("evicts least recently used entries past the byte budget", async () => {
    const log: string[] = [];
    const cache = new AdapterCache<Item>(300);
    for (const k of ["a", "b", "c"]) await cache.prefetch(k, loader(100, log, k));
    const a = cache.peek("a") as Item;
    await cache.prefetch("a", loader(100, log, "a")); // touch a: b is now the oldest
    await cache.prefetch("d", loader(100, log, "d"));
    expect(cache.keys().sort()).toEqual(["a", "c", "d"]);
    expect(a.disposed).toBe(false);
    expect(log).toEqual(["a", "b", "c", "d"]);
    expect(cache.stats()).toMatchObject({ bytes: 300, entries: 3, evictions: 1, loads: 4, hits: 1 });
  });

  it("never evicts a pinned entry and shrinks back once it is released", async () => {
    const cache = new AdapterCache<Item>(150);
    const a = await cache.acquire("a", loader(100, [], "a"));
    const b = await cache.acquire("b", loader(100, [], "b"));
    expect(cache.stats().bytes).toBe(200); // over budget while both are pinned
    expect(a.disposed || b.disposed).toBe(false);
    cache.release("a");
    expect(a.disposed).toBe(true);
    expect(cache.keys()).toEqual(["b"]);
    cache.release("b");
    expect(cache.keys()).toEqual(["b"]);
  });

  it("loads once for concurrent acquirers and pins each of them", async () => {
    const log: string[] = [];
    const cache = new AdapterCache<Item>(50); // smaller than one item
    const [x, y] = await Promise.all([
      cache.acquire("k", loader(100, log, "k")),
      cache.acquire("k", loader(100, log, "k")),
    ]);
    expect(x).toBe(y);
    expect(log).toEqual(["k"]);
    expect(cache.refs("k")).toBe(2);
    cache.release("k");
    expect(x.disposed).toBe(false);
    cache.release("k");
    expect(x.disposed).toBe(true);
  });

  it("does not cache a failed load and lets a later acquire retry", async () => {
    const cache = new AdapterCache<Item>(1000);
    await expect(cache.acquire("bad", async () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    expect(cache.has("bad")).toBe(false);
    await cache.prefetch("bad", loader(10, [], "bad"));
    expect(cache.has("bad")).toBe(true);
  });

  it("defers an explicit eviction of a pinned entry until release", async () => {
    const cache = new AdapterCache<Item>(1000);
    const a = await cache.acquire("a", loader(10, [], "a"));
    expect(cache.evict("a")).toBe(true);
    expect(a.disposed).toBe(false);
    cache.release("a");
    expect(a.disposed).toBe(true);
    expect(cache.evict("a")).toBe(false);
  });
});
