import * as tf from "@tensorflow/tfjs-core";
import { LORA_LINEAR } from "./names.js";

/**
 * Gradient of the fused LoraLinear kernel, y = x·W + s·(x·A)·B + bias:
 * dx = dy·Wᵀ + s·(dy·Bᵀ)·Aᵀ, dW = xᵀ·dy, dA = s·xᵀ·(dy·Bᵀ), dB = s·(x·A)ᵀ·dy, dbias = Σ_rows dy.
 */
export const loraLinearGradConfig: tf.GradConfig = {
  kernelName: LORA_LINEAR,
  inputsToSave: ["x", "W", "A", "B"],
  gradFunc: (dy, saved, attrs) => {
    const g = dy as tf.Tensor2D;
    const [x, W, A, B] = saved as tf.Tensor2D[];
    const s = Number((attrs as { scale?: number }).scale ?? 1);
    const dyBt = () => tf.matMul(g, B as tf.Tensor2D, false, true);
    return {
      x: () =>
        tf.add(
          tf.matMul(g, W as tf.Tensor2D, false, true),
          tf.mul(tf.matMul(dyBt(), A as tf.Tensor2D, false, true), s),
        ),
      W: () => tf.matMul(x as tf.Tensor2D, g, true, false),
      A: () => tf.mul(tf.matMul(x as tf.Tensor2D, dyBt(), true, false), s),
      B: () => tf.matMul(tf.mul(tf.matMul(x as tf.Tensor2D, A as tf.Tensor2D), s), g, true, false),
      bias: () => tf.sum(g, 0),
    };
  },
};
