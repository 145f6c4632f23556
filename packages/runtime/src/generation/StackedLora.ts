import * as tf from "@tensorflow/tfjs-core";
import type { RowAdapter } from "../engine/LoraBatchPlan.js";
import type { ResidentModule } from "../engine/types.js";

/**
 * The LoRA side of decode steps over a stable set of sequences with many different adapters: per module,
 * each row's A [in, r] times its scale (request scale × alpha/r) and B [r, out] stacked once, in the
 * layout the engine holds them ([rows, in, r], [rows, r, out]; rows without the module get zeros, lower
 * ranks are zero-padded). With one position per row, a step is two batched matmuls, the same two ops
 * whatever the number of distinct adapters; their cost is reading every row's factors once, as any per-row
 * method must (the gathered path adds a few ops per adapter). Rebuilt only when the rows change (a
 * sequence joins or leaves), which continuous batching makes rare next to the steps in between; a rebuild
 * is a copy and one scaling (no transposes).
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
    const u = tf.matMul(tf.reshape(x, [n, 1, inF]), s.A); // [n, 1, r], scaled
    return tf.reshape(tf.matMul(u, s.B), [n, s.B.shape[2]]) as tf.Tensor2D;
  }

  private build(module: string): { A: tf.Tensor3D; B: tf.Tensor3D } | null {
    const mods = this.rows.map((r) => r.modules?.get(module) ?? null);
    const scales = mods.map((m, i) => (m ? (this.rows[i]?.scale ?? 1) * m.scaling : 0));
    if (!scales.some((v) => v !== 0)) return null;
    const some = mods.find((m) => m) as ResidentModule;
    const rmax = Math.max(...mods.map((m) => m?.rank ?? 0));
    const [inF] = some.A.shape;
    const outF = some.B.shape[1];
    const built = tf.tidy(() => {
      const zeroA = tf.zeros<tf.Rank.R2>([inF, rmax]);
      const zeroB = tf.zeros<tf.Rank.R2>([rmax, outF]);
      const As = mods.map((m) =>
        !m
          ? zeroA
          : m.rank < rmax
            ? tf.pad(m.A, [
                [0, 0],
                [0, rmax - m.rank],
              ])
            : m.A,
      );
      const Bs = mods.map((m) =>
        !m
          ? zeroB
          : m.rank < rmax
            ? tf.pad(m.B, [
                [0, rmax - m.rank],
                [0, 0],
              ])
            : m.B,
      );
      return {
        A: tf.mul(tf.stack(As), tf.tensor3d(scales, [mods.length, 1, 1])) as tf.Tensor3D,
        B: tf.stack(Bs) as tf.Tensor3D,
      };
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
