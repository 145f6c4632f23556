import * as tf from "@tensorflow/tfjs-core";
import { CoreError } from "../errors.js";
import { effectiveRank, energyKept } from "./effectiveRank.js";
import { as2d } from "./singularValues.js";
import { thinSvd } from "./svd.js";

/** How many singular directions to keep: a fixed rank, or the smallest rank keeping `energy` of Σσ². */
export type RankChoice = number | { rank: number } | { energy: number };

export interface ExtractedLora {
  /** [in, r]: U_r·sqrt(S_r). */
  A: tf.Tensor2D;
  /** [r, out]: sqrt(S_r)·V_rᵀ. A·B is the best rank-r approximation of ΔW (scaling 1). */
  B: tf.Tensor2D;
  rank: number;
  /** ‖ΔW − A·B‖_F / ‖ΔW‖_F, measured on the returned factors (0 when ΔW = 0). */
  relError: number;
  /** Fraction of Σσ² kept. */
  energy: number;
  /** All singular values of ΔW, descending. */
  singularValues: Float64Array;
}

function chooseRank(choice: RankChoice, sv: Float64Array): number {
  const max = sv.length;
  if (typeof choice === "number" || "rank" in choice) {
    const r = typeof choice === "number" ? choice : choice.rank;
    if (!Number.isInteger(r) || r <= 0)
      throw new CoreError("InvalidArgument", `extractLora: expected a positive integer rank, found ${r}`);
    return Math.min(r, max);
  }
  return Math.max(1, effectiveRank(sv, choice.energy));
}

/**
 * LoRA factors for the difference of two weights by truncated SVD (Eckart–Young: the best rank-r
 * approximation in Frobenius norm). Weights are read as [in, out] (tfjs Dense layout; conv kernels flattened).
 * The factors go into a `LoraLinear` with scaling 1 (`lora_alpha = r`). The caller owns A and B.
 */
export function extractLora(base: tf.Tensor, tuned: tf.Tensor, r: RankChoice): ExtractedLora {
  if (base.shape.join(",") !== tuned.shape.join(","))
    throw new CoreError(
      "ShapeMismatch",
      `extractLora: expected tuned weight of shape [${base.shape.join(", ")}], found [${tuned.shape.join(", ")}]`,
    );
  const { rows, cols } = as2d(base, "extractLora");
  const b = base.dataSync();
  const t = tuned.dataSync();
  const delta = new Float64Array(rows * cols);
  let norm2 = 0;
  for (let i = 0; i < delta.length; i++) {
    const d = (t[i] as number) - (b[i] as number);
    if (!Number.isFinite(d))
      throw new CoreError("NonFinite", `extractLora: expected finite weights, found ${d} at ${i}`);
    delta[i] = d;
    norm2 += d * d;
  }
  const svd = thinSvd(delta, rows, cols);
  const k = chooseRank(r, svd.S);
  const A = new Float32Array(rows * k);
  const B = new Float32Array(k * cols);
  for (let c = 0; c < k; c++) {
    const s = Math.sqrt(svd.S[c] as number);
    for (let i = 0; i < rows; i++) A[i * k + c] = (svd.U[i * svd.k + c] as number) * s;
    for (let j = 0; j < cols; j++) B[c * cols + j] = (svd.V[j * svd.k + c] as number) * s;
  }
  let err2 = 0;
  for (let i = 0; i < rows; i++)
    for (let j = 0; j < cols; j++) {
      let v = 0;
      for (let c = 0; c < k; c++) v += (A[i * k + c] as number) * (B[c * cols + j] as number);
      err2 += ((delta[i * cols + j] as number) - v) ** 2;
    }
  return {
    A: tf.tensor2d(A, [rows, k]),
    B: tf.tensor2d(B, [k, cols]),
    rank: k,
    relError: norm2 === 0 ? 0 : Math.sqrt(err2 / norm2),
    energy: energyKept(svd.S, k),
    singularValues: svd.S,
  };
}
