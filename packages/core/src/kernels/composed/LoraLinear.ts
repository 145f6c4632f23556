import * as tf from "@tensorflow/tfjs-core";

/**
 * loraLinear from existing ops (wasm's kernels are compiled into its binary, so this is its path, and
 * every backend's fallback): x·W + ((x·A)·scale)·B (+ bias). Differentiable through tfjs's own gradients.
 */
export function loraLinearComposed(
  x: tf.Tensor2D,
  W: tf.Tensor2D,
  A: tf.Tensor2D,
  B: tf.Tensor2D,
  scale: number,
  bias?: tf.Tensor1D,
): tf.Tensor2D {
  return tf.tidy(() => {
    const base = bias ? tf.add(tf.matMul(x, W), bias) : tf.matMul(x, W);
    if (scale === 0) return base as tf.Tensor2D;
    return tf.add(base, tf.matMul(tf.mul(tf.matMul(x, A), scale), B)) as tf.Tensor2D;
  });
}
