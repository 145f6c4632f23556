import * as tf from "@tensorflow/tfjs-core";
import { CoreError } from "../errors.js";

/**
 * Stack adapters of possibly different ranks for bgmv/sgmv: A_i [in, r_i] and B_i [r_i, out] are
 * zero-padded to the largest rank, giving As [k, in, rmax] and Bs [k, rmax, out]. Padding with zeros
 * leaves each adapter's product unchanged.
 */
export function stackAdapters(adapters: ReadonlyArray<{ A: tf.Tensor2D; B: tf.Tensor2D }>): {
  As: tf.Tensor3D;
  Bs: tf.Tensor3D;
  rmax: number;
} {
  if (adapters.length === 0)
    throw new CoreError("InvalidArgument", "stackAdapters: expected at least one adapter, found none");
  const first = adapters[0] as { A: tf.Tensor2D; B: tf.Tensor2D };
  const inF = first.A.shape[0];
  const outF = first.B.shape[1];
  adapters.forEach(({ A, B }, i) => {
    if (A.rank !== 2 || B.rank !== 2 || A.shape[0] !== inF || B.shape[1] !== outF || A.shape[1] !== B.shape[0]) {
      throw new CoreError(
        "ShapeMismatch",
        `stackAdapters: adapter ${i} expected A [${inF}, r] and B [r, ${outF}], found A [${A.shape}] and B [${B.shape}]`,
      );
    }
  });
  const rmax = Math.max(...adapters.map((a) => a.A.shape[1]));
  return tf.tidy(() => {
    const As = tf.stack(
      adapters.map(({ A }) =>
        A.shape[1] < rmax
          ? tf.pad(A, [
              [0, 0],
              [0, rmax - A.shape[1]],
            ])
          : A,
      ),
    ) as tf.Tensor3D;
    const Bs = tf.stack(
      adapters.map(({ B }) =>
        B.shape[0] < rmax
          ? tf.pad(B, [
              [0, rmax - B.shape[0]],
              [0, 0],
            ])
          : B,
      ),
    ) as tf.Tensor3D;
    return { As, Bs, rmax };
  });
}
