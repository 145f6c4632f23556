import * as tf from "@tensorflow/tfjs-core";
import type { RowAdapter } from "../engine/LoraBatchPlan.js";
import type { ResidentModule } from "../engine/types.js";

/**
 * The LoRA side of decode steps over a stable set of sequences with different adapters: per module, each
 * row's A [in, r] and scaled B [r, out] stacked once ([rows, in, r], [rows, r, out]; rows without the
 * module get zeros, lower ranks are zero-padded), so a step costs two batched matmuls per module
 * whatever the number of distinct adapters. Rebuilt only when the rows change (a sequence joins or
 * leaves), which continuous batching makes rare next to the steps in between.
 */
export class StackedLora {
  private readonly stacks = new Map<string, { A: tf.Tensor3D; B: tf.Tensor3D } | null>();

  constructor(
    private readonly rows: readonly RowAdapter[],
    /** Identity of `rows` (adapter and scale per row, in order). */
    readonly key: string,
  ) {}

  /** Row i's LoRA term for `module` on x [rows, in] (one position per row), or null when no row adapts it. */
  delta(module: string, x: tf.Tensor2D, _outFeatures?: number): tf.Tensor2D | null {
    let s = this.stacks.get(module);
    if (s === undefined) {
      s = this.build(module);
      this.stacks.set(module, s);
    }
    if (!s) return null;
    const [n, inF] = x.shape;
    const out = s.B.shape[2];
    return tf.reshape(tf.matMul(tf.matMul(tf.reshape(x, [n, 1, inF]), s.A), s.B), [n, out]);
  }

  private build(module: string): { A: tf.Tensor3D; B: tf.Tensor3D } | null {
    const mods = this.rows.map((r) => r.modules?.get(module) ?? null);
    if (!mods.some((m, i) => m && this.rows[i]?.scale !== 0)) return null;
    const some = mods.find((m) => m) as ResidentModule;
    const rmax = Math.max(...mods.map((m) => m?.rank ?? 0));
    const [inF] = some.A.shape;
    const outF = some.B.shape[1];
    const built = tf.tidy(() => {
      const zeroA = tf.zeros<tf.Rank.R2>([inF, rmax]);
      const zeroB = tf.zeros<tf.Rank.R2>([rmax, outF]);
      const As = mods.map((m) =>
        m
          ? m.rank < rmax
            ? tf.pad(m.A, [
                [0, 0],
                [0, rmax - m.rank],
              ])
            : m.A
          : zeroA,
      );
      const Bs = mods.map((m, i) => {
        if (!m) return zeroB;
        const b =
          m.rank < rmax
            ? tf.pad(m.B, [
                [0, rmax - m.rank],
                [0, 0],
              ])
            : m.B;
        return tf.mul(b, (this.rows[i]?.scale ?? 1) * m.scaling);
      });
      return { A: tf.stack(As) as tf.Tensor3D, B: tf.stack(Bs) as tf.Tensor3D };
    });
    // Built inside a step's tidy: keep them past it (disposed with this object).
    tf.keep(built.A);
    tf.keep(built.B);
    return built;
  }

  dispose(): void {
    for (const s of this.stacks.values()) if (s) tf.dispose([s.A, s.B]);
    this.stacks.clear();
  }
}
