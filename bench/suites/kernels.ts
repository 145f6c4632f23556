import {
  type AdapterListPath,
  bgmv,
  bgmvAdapters,
  GATHER_STRATEGIES,
  type GatherStrategy,
  SEGMENT_STRATEGIES,
  type SegmentStrategy,
  sgmv,
} from "@lowrank/core";
import * as tf from "@tensorflow/tfjs-core";
import { type BenchGroup, defineSuite } from "../harness.js";

// Which composition of existing ops is fastest for the gathered LoRA kernels on wasm (whose kernels live in
// its binary). The fastest becomes DEFAULT_STRATEGY in packages/core/src/kernels/ops.ts.
const D = 1024;
const R = 16;
const K = 4;

const owned: tf.Tensor[] = [];
function keep<T extends tf.Tensor>(t: T): T {
  owned.push(t);
  return t;
}

function read(t: tf.Tensor): void {
  t.dataSync();
  t.dispose();
}

/** The adapters one at a time (their own A [D, R] and B [R, D], as an engine holds them). */
function adapterList(As: tf.Tensor3D, Bs: tf.Tensor3D): Array<{ A: tf.Tensor2D; B: tf.Tensor2D }> {
  return Array.from({ length: K }, (_, a) => ({
    A: keep(tf.reshape(tf.slice(As, [a, 0, 0], [1, D, R]), [D, R]) as tf.Tensor2D),
    B: keep(tf.reshape(tf.slice(Bs, [a, 0, 0], [1, R, D]), [R, D]) as tf.Tensor2D),
  }));
}

function groups(n: number, As: tf.Tensor3D, Bs: tf.Tensor3D): BenchGroup[] {
  const x = keep(tf.randomNormal([n, D], 0, 1, "float32", 3) as tf.Tensor2D);
  // each row its own adapter, a quarter of the rows without one (__base__)
  const idx = Int32Array.from({ length: n }, (_, i) => (i % (K + 1)) - 1);
  const scales = new Float32Array(n).fill(2);
  // sgmv: the same rows grouped in K contiguous segments (one per request), the last quarter without adapter
  const per = Math.floor(n / (K + 1));
  const seg = {
    starts: Array.from({ length: K }, (_, s) => s * per),
    ends: Array.from({ length: K }, (_, s) => (s + 1) * per),
    adapters: Array.from({ length: K }, (_, s) => s),
  };
  const segScales = new Array(K).fill(2);
  const work = { amount: (2 * n * D * R * 2) / 1e9, unit: "GFLOP/s" as const };
  const list = adapterList(As, Bs);
  const paths: Array<Exclude<AdapterListPath, "auto">> = ["kernel", "segmented"];
  return [
    {
      // The engine's case: adapters held one by one. `kernel` stacks them per call then runs bgmv (onehot on
      // wasm); `segmented` runs each adapter's own A and B on its rows. The faster is DEFAULT_ADAPTER_LIST_PATH.
      name: `bgmv over an adapter list n=${n} d=${D} r=${R} k=${K} (wasm paths)`,
      cases: paths.map((path) => ({
        name: path,
        baseline: path === "kernel",
        work,
        fn: () => read(bgmvAdapters(x, list, idx, scales, { path })),
      })),
    },
    {
      name: `bgmv n=${n} d=${D} r=${R} k=${K} (wasm compositions)`,
      cases: GATHER_STRATEGIES.map((strategy: GatherStrategy) => ({
        name: strategy,
        baseline: strategy === "gather",
        work,
        fn: () => read(bgmv(x, As, Bs, idx, scales, { strategy })),
      })),
    },
    {
      name: `sgmv n=${n} d=${D} r=${R} ${K} segments (wasm compositions)`,
      cases: SEGMENT_STRATEGIES.map((strategy: SegmentStrategy) => ({
        name: strategy,
        baseline: strategy === "segments",
        work,
        fn: () => read(sgmv(x, As, Bs, seg, segScales, { strategy })),
      })),
    },
  ];
}

export default defineSuite({
  name: "kernels",
  backend: "wasm",
  dispose: () => {
    for (const t of owned.splice(0)) t.dispose();
  },
  groups: async () => {
    const As = keep(tf.randomNormal([K, D, R], 0, 0.02, "float32", 1) as tf.Tensor3D);
    const Bs = keep(tf.randomNormal([K, R, D], 0, 0.02, "float32", 2) as tf.Tensor3D);
    return [...groups(8, As, Bs), ...groups(64, As, Bs), ...groups(512, As, Bs)];
  },
});
