import * as tf from "@tensorflow/tfjs-core";

/**
 * `table[ids]` (rows of a 2-D table) whose gradient with respect to `table` is a scatter-add of `dy`
 * into a zero [rows, cols] table (`ScatterNd` sums repeated ids). `tf.gather`'s own gradient needs
 * `UnsortedSegmentSum`, which the wasm backend does not register; `ScatterNd` is registered on cpu,
 * wasm, webgl, webgpu and tfjs-node, so this trains on every backend. The forward pass is a plain gather.
 * `table` is [rows, cols], `ids` an int32 [n] tensor; no gradient flows to `ids`.
 */
export function gatherRows(table: tf.Tensor, ids: tf.Tensor): tf.Tensor2D {
  const [rows = 0, cols = 0] = table.shape;
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const t = args[0] as tf.Tensor;
    const save = args[1] as tf.GradSaveFunc;
    save([ids]);
    return {
      value: tf.gather(t, ids),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const g = (Array.isArray(dy) ? dy[0] : dy) as tf.Tensor;
        const idx = tf.reshape(saved[0] as tf.Tensor, [-1, 1]);
        return [tf.scatterND(idx, tf.reshape(g, [-1, cols]), [rows, cols])];
      },
    };
  });
  return op(table) as tf.Tensor2D;
}
