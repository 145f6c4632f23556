import type * as tf from "@tensorflow/tfjs-core";
import { CoreError } from "../errors.js";
import type { LoraModel } from "../inject/LoraModel.js";
import { denseSingularValues, lowRankSingularValues } from "./svd.js";

/** A low-rank update in LoRA layout: ΔW = scale·A·B with A [in, r], B [r, out]. */
export interface LowRankFactors {
  A: tf.Tensor;
  B: tf.Tensor;
  scale?: number;
}

/** A weight tensor viewed as [in, out] (a conv kernel [kh, kw, cin, cout] as [kh·kw·cin, cout]). */
export function as2d(t: tf.Tensor, what = "weight"): { rows: number; cols: number } {
  if (t.rank < 2)
    throw new CoreError(
      "ShapeMismatch",
      `${what}: expected a tensor of rank >= 2, found shape [${t.shape.join(", ")}]`,
    );
  const cols = t.shape[t.rank - 1] as number;
  return { rows: t.size / cols, cols };
}

/**
 * Singular values (descending) of a weight update: a full tensor (read as [in, out], SVD via ml-matrix) or
 * LoRA factors `{ A, B, scale }` (QR of each factor, then an r×r SVD: cheap for large layers).
 */
export function singularValues(deltaW: tf.Tensor | LowRankFactors): Float64Array {
  if ("A" in deltaW && "B" in deltaW && !("dataSync" in deltaW)) {
    const { A, B } = deltaW;
    if (A.rank !== 2 || B.rank !== 2 || A.shape[1] !== B.shape[0])
      throw new CoreError(
        "ShapeMismatch",
        `singularValues: expected A [in, r] and B [r, out], found A [${A.shape.join(", ")}] and B [${B.shape.join(", ")}]`,
      );
    const [n, r] = A.shape as [number, number];
    const m = B.shape[1] as number;
    return lowRankSingularValues(A.dataSync(), B.dataSync(), n, r, m, deltaW.scale ?? 1);
  }
  const t = deltaW as tf.Tensor;
  const { rows, cols } = as2d(t, "singularValues");
  return denseSingularValues(t.dataSync(), rows, cols);
}

/** Singular values of every layer's ΔW = scaling·A·B for one adapter of a `LoraModel`, by module name. */
export function adapterSingularValues(model: LoraModel, adapter = "default"): Map<string, Float64Array> {
  const out = new Map<string, Float64Array>();
  for (const [name, layer] of model.layers) {
    if (!layer.hasAdapter(adapter)) continue;
    const a = layer.getAdapter(adapter);
    out.set(name, singularValues({ A: a.A, B: a.B, scale: a.scaling }));
  }
  if (out.size === 0)
    throw new CoreError("UnknownAdapter", `expected adapter "${adapter}" in some layer, found it in none`);
  return out;
}
