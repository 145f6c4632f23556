import * as tf from "@tensorflow/tfjs-core";
import type { ResidentAdapter } from "./ResidentAdapter.js";
import type { ServableBase } from "./types.js";

/**
 * Merged mode for one base: the hot adapter's term folded into copies of the modules it adapts
 * (W' = W + s·scaling·A·B, in the module's layout). The frozen base weights are never written, so
 * unmerging is exact: drop the copies. Memory: one extra copy of the adapted modules only.
 */
export class MergedWeights {
  private weights = new Map<string, tf.Tensor2D>();
  private key: string | null = null;
  merges = 0;
  unmerges = 0;

  constructor(private readonly base: ServableBase) {}

  /** Which adapter (cache key) and scale are merged, if any. */
  get current(): string | null {
    return this.key;
  }

  weight(module: string): tf.Tensor2D | undefined {
    return this.weights.get(module);
  }

  /** Ensures exactly `adapter` at `scale` is merged (null = the plain base); returns whether it changed anything. */
  ensure(adapter: ResidentAdapter | null, scale: number, cacheKey: string | null): boolean {
    const want = adapter && scale !== 0 ? `${cacheKey}@${scale}` : null;
    if (want === this.key) return false;
    this.unmerge();
    if (!adapter || want === null) return true;
    for (const [name, m] of adapter.modules) {
      const target = this.base.linearModules.get(name);
      if (!target) continue;
      const merged = tf.tidy(() => {
        const delta = tf.mul(tf.matMul(m.A, m.B), scale * m.scaling); // [in, out]
        return tf.add(target.weight, target.layout === "in_out" ? delta : tf.transpose(delta)) as tf.Tensor2D;
      });
      this.weights.set(name, merged);
    }
    this.key = want;
    this.merges++;
    return true;
  }

  unmerge(): void {
    if (this.key === null) return;
    tf.dispose([...this.weights.values()]);
    this.weights.clear();
    this.key = null;
    this.unmerges++;
  }

  /** Unmerges if `cacheKey`'s adapter is the merged one (it is being unloaded). */
  forget(cacheKey: string): void {
    if (this.key?.startsWith(`${cacheKey}@`)) this.unmerge();
  }
}
