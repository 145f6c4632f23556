import type * as tf from "@tensorflow/tfjs-core";

/** The two methods of tfjs's cpu backend the LoRA kernels use (stated structurally: no dependency on the package). */
export interface CpuBackendLike {
  readSync(dataId: object): tf.backend_util.BackendValues;
  makeTensorInfo(shape: number[], dtype: tf.DataType, values: tf.backend_util.BackendValues): tf.TensorInfo;
}
