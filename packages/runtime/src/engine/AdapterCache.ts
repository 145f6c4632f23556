/** Something the cache can hold: its size in bytes and a way to free it. */
export interface Cacheable {
  readonly bytes: number;
  dispose(): void;
}

export interface AdapterCacheStats {
  entries: number;
  bytes: number;
  budgetBytes: number;
  pinned: number;
  hits: number;
  misses: number;
  loads: number;
  evictions: number;
}

interface Entry<V> {
  value: V;
  refs: number;
  /** Unload was asked while pinned: drop it when the last user releases it. */
  doomed: boolean;
}

/**
 * LRU cache with a byte budget. `acquire` pins an entry (loading it once however many callers ask at the
 * same time) and `release` unpins it; eviction only ever drops unpinned entries, so an adapter that a
 * running batch uses stays resident even when the cache is over budget. The cache goes back under budget
 * as soon as pins are released.
 */
export class AdapterCache<V extends Cacheable> {
  private readonly entries = new Map<string, Entry<V>>();
  private readonly loading = new Map<string, { promise: Promise<V>; waiters: number }>();
  private counters = { hits: 0, misses: 0, loads: 0, evictions: 0 };
  private total = 0;

  constructor(
    readonly budgetBytes: number,
    private readonly onEvict?: (key: string, value: V) => void,
  ) {}

  has(key: string): boolean {
    return this.entries.has(key);
  }

  /** The value if resident, without pinning it or touching its LRU position. */
  peek(key: string): V | undefined {
    return this.entries.get(key)?.value;
  }

  keys(): string[] {
    return [...this.entries.keys()];
  }

  refs(key: string): number {
    return this.entries.get(key)?.refs ?? 0;
  }

  /** Pins `key`, loading it with `load` if absent. Every successful acquire needs one `release`. */
  async acquire(key: string, load: () => Promise<V>): Promise<V> {
    const hit = this.entries.get(key);
    if (hit) {
      this.counters.hits++;
      hit.refs++;
      hit.doomed = false;
      this.touch(key, hit);
      return hit.value;
    }
    this.counters.misses++;
    let pending = this.loading.get(key);
    if (!pending) {
      pending = { promise: this.startLoad(key, load), waiters: 0 };
      this.loading.set(key, pending);
    }
    // Every waiter is pinned when the load lands (see startLoad), before anything can evict it.
    pending.waiters++;
    return pending.promise;
  }

  release(key: string): void {
    const entry = this.entries.get(key);
    if (!entry || entry.refs === 0) return;
    entry.refs--;
    if (entry.refs === 0 && entry.doomed) this.drop(key, entry);
    else this.shrink();
  }

  /** Loads `key` without keeping a pin (warms the cache ahead of requests). */
  async prefetch(key: string, load: () => Promise<V>): Promise<void> {
    await this.acquire(key, load);
    this.release(key);
  }

  /** Drops `key` now, or when its last user releases it. Returns whether it was resident. */
  evict(key: string): boolean {
    const entry = this.entries.get(key);
    if (!entry) return false;
    if (entry.refs > 0) entry.doomed = true;
    else this.drop(key, entry);
    return true;
  }

  stats(): AdapterCacheStats {
    let pinned = 0;
    for (const e of this.entries.values()) if (e.refs > 0) pinned++;
    return { entries: this.entries.size, bytes: this.total, budgetBytes: this.budgetBytes, pinned, ...this.counters };
  }

  /** Frees every entry, pinned or not (engine shutdown). */
  clear(): void {
    for (const [key, entry] of [...this.entries]) this.drop(key, entry);
  }

  private async startLoad(key: string, load: () => Promise<V>): Promise<V> {
    try {
      const value = await load();
      this.counters.loads++;
      const entry: Entry<V> = { value, refs: this.loading.get(key)?.waiters ?? 0, doomed: false };
      this.entries.set(key, entry);
      this.total += value.bytes;
      this.shrink();
      return value;
    } finally {
      this.loading.delete(key);
    }
  }

  private touch(key: string, entry: Entry<V>): void {
    this.entries.delete(key);
    this.entries.set(key, entry);
  }

  private shrink(): void {
    if (this.total <= this.budgetBytes) return;
    for (const [key, entry] of [...this.entries]) {
      if (this.total <= this.budgetBytes) break;
      if (entry.refs === 0) this.drop(key, entry);
    }
  }

  private drop(key: string, entry: Entry<V>): void {
    this.entries.delete(key);
    this.total -= entry.value.bytes;
    this.counters.evictions++;
    this.onEvict?.(key, entry.value);
    entry.value.dispose();
  }
}
