import type { AdapterWeights } from "@lowrank/runtime";

/**
 * What one playground holds on the backend: the base model once loaded, every adapter fetched (by
 * repo), and the evaluations in flight. One instance per mount of a playground (created in the effect
 * that loads the base); `release()`, the effect's cleanup, waits for the work in flight to settle and
 * then disposes the model and each adapter's factors, so leaving the page or switching base or
 * backend frees the tensors.
 */
export class PlaygroundResources<M extends { dispose(): void }> {
  private model: M | null = null;
  private readonly adapters = new Map<string, Promise<AdapterWeights>>();
  private readonly pending = new Set<Promise<unknown>>();
  private gone = false;

  constructor(private readonly load: (repo: string) => Promise<AdapterWeights>) {}

  get released(): boolean {
    return this.gone;
  }

  /** Keeps the loaded base; when the playground is already gone it is disposed at once (false). */
  hold(model: M): boolean {
    if (this.gone) {
      model.dispose();
      return false;
    }
    this.model = model;
    return true;
  }

  has(repo: string): boolean {
    return this.adapters.has(repo);
  }

  /** The adapter's factors, fetched once (a failed fetch is forgotten, so a later click retries). */
  adapter(repo: string): Promise<AdapterWeights> {
    if (this.gone) return Promise.reject(new Error("the playground was closed"));
    let p = this.adapters.get(repo);
    if (!p) {
      p = this.load(repo);
      p.catch(() => this.adapters.get(repo) === p && this.adapters.delete(repo));
      this.adapters.set(repo, p);
    }
    return p;
  }

  /** Runs work that uses the model or the adapters; `release()` waits for it before disposing them. */
  run<T>(work: () => Promise<T>): Promise<T> {
    const p = work();
    this.pending.add(p);
    const forget = () => this.pending.delete(p);
    p.then(forget, forget);
    return p;
  }

  /** Disposes the model and every adapter once the work in flight (and each adapter's fetch) has settled. */
  async release(): Promise<void> {
    this.gone = true;
    const adapters = [...this.adapters.values()];
    this.adapters.clear();
    await Promise.allSettled([...this.pending]);
    this.model?.dispose();
    this.model = null;
    for (const r of await Promise.allSettled(adapters))
      if (r.status === "fulfilled")
        for (const m of r.value.modules.values()) {
          m.a.dispose();
          m.b.dispose();
        }
  }
}
