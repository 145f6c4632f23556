import * as tf from "@tensorflow/tfjs-core";
import { defineSuite } from "../harness.js";

function read(t: tf.Tensor): void {
  t.dataSync();
  t.dispose();
}

// A tiny always-on suite that keeps the harness honest: elementwise add vs a copy of the same size.
let x: tf.Tensor;

export default defineSuite({
  name: "harness",
  dispose: () => x.dispose(),
  groups: async () => {
    x = tf.randomNormal([256, 256]);
    return [
      {
        name: "add 256x256",
        time: 100,
        cases: [
          { name: "clone", baseline: true, fn: () => read(tf.clone(x)) },
          { name: "x + x", fn: () => read(tf.add(x, x)) },
        ],
      },
    ];
  },
});
