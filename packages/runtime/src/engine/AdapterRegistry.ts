import { isRuntimeError, RuntimeError } from "../backend/errors.js";
import { AdapterCache, type AdapterCacheStats } from "./AdapterCache.js";
import { peftLoader } from "./peftLoader.js";
import { ResidentAdapter } from "./ResidentAdapter.js";
import {
  type AdapterLoader,
  type AdapterSource,
  type AdapterWeights,
  BASE_ADAPTER,
  type ServableBase,
} from "./types.js";

export interface AdapterInfo {
  name: string;
  digest?: string;
  source: AdapterSource["kind"];
  path?: string;
  /** Bases it is resident for, with its size and rank there. */
  loaded: Array<{ base: string; bytes: number; rank: number; pinned: number }>;
}

interface Entry {
  source: AdapterSource;
  digest?: string;
}

const SEP = "\u0000";

/**
 * The adapters an engine knows (by name, and by digest once known) and the LRU cache of those resident for
 * each base. Loading goes through the loader (PEFT by default), then `ResidentAdapter.fromWeights` checks
 * every module against the base before anything becomes resident.
 */
export class AdapterRegistry {
  private readonly entries = new Map<string, Entry>();
  private readonly digests = new Map<string, string>();
  private readonly cache: AdapterCache<ResidentAdapter>;

  constructor(
    cacheBytes: number,
    private readonly loader: AdapterLoader = peftLoader,
    onEvict?: (baseId: string, key: string) => void,
  ) {
    this.cache = new AdapterCache<ResidentAdapter>(cacheBytes, (key) => onEvict?.(key.split(SEP)[0] as string, key));
  }

  /** The cache key of adapter `name` resident for base `baseId` (also the merged-weights key). */
  static key(baseId: string, name: string): string {
    return baseId + SEP + name;
  }

  /** Makes an adapter known by name, replacing (and unloading) one of the same name. */
  register(name: string, source: AdapterSource, digest?: string): void {
    if (!name || name === BASE_ADAPTER)
      throw new RuntimeError(
        "InvalidArgument",
        `adapter name: expected a non-empty name other than '${BASE_ADAPTER}', found '${name}'`,
      );
    if (this.entries.has(name)) this.unregister(name);
    this.entries.set(name, { source, digest });
    if (digest) this.digests.set(digest, name);
  }

  /** Forgets an adapter and drops it from the cache (after the batches using it finish). */
  unregister(name: string): void {
    this.evict(name);
    const digest = this.entries.get(name)?.digest;
    if (digest && this.digests.get(digest) === name) this.digests.delete(digest);
    this.entries.delete(name);
  }

  /** The registration of `name`, to restore it after a failed replacement. */
  snapshot(name: string): { source: AdapterSource; digest?: string } | undefined {
    const e = this.entries.get(name);
    return e ? { ...e } : undefined;
  }

  /** The registered name for a name or digest, or `NotFound`. */
  resolve(nameOrDigest: string): string {
    if (this.entries.has(nameOrDigest)) return nameOrDigest;
    const byDigest = this.digests.get(nameOrDigest);
    if (byDigest) return byDigest;
    throw new RuntimeError(
      "NotFound",
      `adapter '${nameOrDigest}': expected a registered adapter name or digest, found none`,
    );
  }

  info(baseIds: readonly string[]): AdapterInfo[] {
    return [...this.entries].map(([name, entry]) => ({
      name,
      digest: entry.digest,
      source: entry.source.kind,
      path: entry.source.kind === "folder" ? entry.source.path : undefined,
      loaded: baseIds.flatMap((base) => {
        const key = AdapterRegistry.key(base, name);
        const r = this.cache.peek(key);
        return r ? [{ base, bytes: r.bytes, rank: r.maxRank, pinned: this.cache.refs(key) }] : [];
      }),
    }));
  }

  /** Pins adapter `name` for `base` (loading it once), for one batch; `release` unpins it. */
  acquire(name: string, base: ServableBase, baseId: string): Promise<ResidentAdapter> {
    return this.cache.acquire(AdapterRegistry.key(baseId, name), () => this.load(name, base));
  }

  release(name: string, baseId: string): void {
    this.cache.release(AdapterRegistry.key(baseId, name));
  }

  prefetch(name: string, base: ServableBase, baseId: string): Promise<void> {
    return this.cache.prefetch(AdapterRegistry.key(baseId, name), () => this.load(name, base));
  }

  /** Drops adapter `name` from the cache for every base; whether anything was resident. */
  evict(name: string): boolean {
    let any = false;
    for (const key of this.cache.keys()) if (key.endsWith(SEP + name)) any = this.cache.evict(key) || any;
    return any;
  }

  stats(): AdapterCacheStats {
    return this.cache.stats();
  }

  clear(): void {
    this.cache.clear();
  }

  private async load(name: string, base: ServableBase): Promise<ResidentAdapter> {
    const entry = this.entries.get(name);
    if (!entry) throw new RuntimeError("NotFound", `adapter '${name}' is not registered`);
    let weights: AdapterWeights;
    try {
      if (entry.source.kind === "custom") weights = await entry.source.load(base);
      else weights = await this.loader(entry.source, { name, base });
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
        `adapter '${name}': ${error instanceof Error ? error.message : String(error)}${typeof code === "string" ? ` (${code})` : ""}`,
        { cause: error },
      );
    }
    const resident = ResidentAdapter.fromWeights(name, { ...weights, digest: weights.digest ?? entry.digest }, base);
    if (resident.digest && this.entries.get(name) === entry) {
      entry.digest = resident.digest;
      this.digests.set(resident.digest, name);
    }
    return resident;
  }
}
