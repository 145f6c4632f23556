import * as tf from "@tensorflow/tfjs-core";
import { RuntimeError } from "../backend/errors.js";
import { linearFitProblem } from "./linearFit.js";
import type { AdapterWeights, ResidentModule, ServableBase } from "./types.js";

/**
 * An adapter held by the engine for one base: per module A [in, r] and B [r, out] (transposed once from
 * PEFT's lora_A [r, in] / lora_B [out, r]). Built only after every module was checked against the base.
 */
export class ResidentAdapter {
  readonly bytes: number;
  private disposed = false;

  private constructor(
    readonly name: string,
    readonly digest: string | undefined,
    readonly baseId: string,
    readonly modules: ReadonlyMap<string, ResidentModule>,
  ) {
    let bytes = 0;
    for (const m of modules.values()) bytes += (m.A.size + m.B.size) * 4;
    this.bytes = bytes;
  }

  get maxRank(): number {
    let r = 0;
    for (const m of this.modules.values()) r = Math.max(r, m.rank);
    return r;
  }

  /**
   * Checks `weights` against `base` (every module exists, shapes agree, values are finite) and takes
   * ownership of its tensors: they are disposed whether or not the check passes.
   */
  static fromWeights(name: string, weights: AdapterWeights, base: ServableBase): ResidentAdapter {
    const modules = new Map<string, ResidentModule>();
    try {
      if (weights.modules.size === 0) {
        throw new RuntimeError("AdapterMismatch", `adapter '${name}': expected at least one LoRA module, found none`);
      }
      for (const [module, w] of weights.modules) {
        const target = base.linearModules.get(module);
        if (!target) {
          throw new RuntimeError(
            "AdapterMismatch",
            `adapter '${name}', layer '${module}': expected a linear module of base '${base.id}', found no such module`,
          );
        }
        const problem = linearFitProblem(module, target, w.a.shape, w.b.shape);
        if (problem) throw new RuntimeError("AdapterMismatch", `adapter '${name}': ${problem}`);
        const r = w.a.shape[0] as number;
        if (!Number.isFinite(w.scaling)) {
          throw new RuntimeError(
            "AdapterLoadFailed",
            `adapter '${name}', layer '${module}': expected a finite scaling, found ${w.scaling}`,
          );
        }
        // x·0 is NaN exactly when x is NaN or ±Inf, so one sum finds any bad value (works on every backend).
        const probe = tf.tidy(() => tf.add(tf.sum(tf.mul(w.a, 0)), tf.sum(tf.mul(w.b, 0))).dataSync()[0]);
        const finite = probe === 0;
        if (!finite) {
          throw new RuntimeError(
            "AdapterLoadFailed",
            `adapter '${name}', layer '${module}': expected finite weights, found NaN or Inf`,
          );
        }
        modules.set(module, {
          A: tf.transpose(w.a) as tf.Tensor2D,
          B: tf.transpose(w.b) as tf.Tensor2D,
          rank: r,
          scaling: w.scaling,
        });
      }
      return new ResidentAdapter(name, weights.digest, base.id, modules);
    } catch (error) {
      for (const m of modules.values()) tf.dispose([m.A, m.B]);
      throw error;
    } finally {
      for (const w of weights.modules.values()) tf.dispose([w.a, w.b]);
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const m of this.modules.values()) tf.dispose([m.A, m.B]);
  }
}
