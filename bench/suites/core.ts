import { LoraLinear } from "@lowrank/core";
import * as tf from "@tensorflow/tfjs-core";
import { defineSuite } from "../harness.js";

// @lowrank/core: the cost of LoRA over a frozen base at d=1024, r=16, batch 64 (wasm backend).
const D = 1024;
const R = 16;
const BATCH = 64;

function read(t: tf.Tensor): void {
  t.dataSync();
  t.dispose();
}

const owned: Array<{ dispose(): void }> = [];
function keep<T extends { dispose(): void }>(t: T): T {
  owned.push(t);
  return t;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

export default defineSuite({
  name: "core",
  dispose: () => {
    for (const t of owned.splice(0)) t.dispose();
  },
  groups: async () => {
    const x = keep(tf.randomNormal([BATCH, D], 0, 1, "float32", 1));
    const W = keep(tf.variable(tf.randomNormal([D, D], 0, 0.03, "float32", 2), false));
    const b = keep(tf.variable(tf.zeros([D]), false));
    const baseForward = () => read(tf.tidy(() => tf.add(tf.matMul(x, W), b)));

    const unmerged = keep(new LoraLinear({ weight: tf.clone(W), bias: b, name: "unmerged" }));
    unmerged.addAdapter("a", { r: R, alpha: 2 * R, init: false, seed: 3 });
    unmerged.setActiveAdapters(["a"]);
    const merged = keep(new LoraLinear({ weight: tf.clone(W), bias: b, name: "merged" }));
    merged.addAdapter("a", { r: R, alpha: 2 * R, init: false, seed: 3 });
    merged.setActiveAdapters(["a"]);
    merged.merge();

    // training: LoRA (A, B trainable) vs full fine-tuning (W trainable), same loss and optimizer
    const target = keep(tf.randomNormal([BATCH, D], 0, 1, "float32", 4));
    const trainLayer = keep(new LoraLinear({ weight: W, bias: b, name: "train" }));
    trainLayer.addAdapter("t", { r: R, alpha: 2 * R, init: false, seed: 5 });
    trainLayer.setActiveAdapters(["t"]);
    const loraVars = trainLayer.adapterVariables(["t"]);
    const fullW = keep(tf.variable(tf.clone(W), true));
    const loraOpt = keep(tf.train.adam(1e-3));
    const fullOpt = keep(tf.train.adam(1e-3));
    const loraStep = () =>
      read(
        loraOpt.minimize(
          () => tf.losses.meanSquaredError(target, trainLayer.forward(x, { training: true })) as tf.Scalar,
          true,
          loraVars,
        ) as tf.Scalar,
      );
    const fullStep = () =>
      read(
        fullOpt.minimize(() => tf.losses.meanSquaredError(target, tf.add(tf.matMul(x, fullW), b)) as tf.Scalar, true, [
          fullW,
        ]) as tf.Scalar,
      );

    const mergeLayer = keep(new LoraLinear({ weight: tf.clone(W), name: "merge" }));
    mergeLayer.addAdapter("m", { r: R, alpha: 2 * R, init: false, seed: 6 });
    mergeLayer.setActiveAdapters(["m"]);

    const stateBytes = (vars: tf.Variable[]) => vars.reduce((s, v) => s + v.size, 0) * 4 * 3; // value + Adam's m and v

    return [
      {
        name: `forward unmerged LoRA d=${D} r=${R} batch ${BATCH}`,
        goal: "≤ 1.10x",
        cases: [
          {
            name: "base x·W + b",
            baseline: true,
            fn: baseForward,
            work: { amount: (2 * BATCH * D * D) / 1e9, unit: "GFLOP/s" },
          },
          { name: "LoRA unmerged", fn: () => read(unmerged.forward(x)) },
        ],
      },
      {
        name: `forward merged LoRA d=${D} r=${R} batch ${BATCH}`,
        goal: "≤ 1.02x",
        cases: [
          { name: "base x·W + b", baseline: true, fn: baseForward },
          { name: "LoRA merged", fn: () => read(merged.forward(x)) },
        ],
      },
      {
        name: `merge / unmerge ${D}x${D} r=${R}`,
        cases: [
          {
            name: "merge + unmerge",
            fn: () => {
              mergeLayer.merge(["m"]);
              mergeLayer.unmerge();
              mergeLayer.weight.dataSync();
            },
          },
          {
            name: "safe merge + unmerge",
            fn: () => {
              mergeLayer.merge(["m"], { safe: true });
              mergeLayer.unmerge();
              mergeLayer.weight.dataSync();
            },
          },
        ],
        values: async () => {
          const m: number[] = [];
          const u: number[] = [];
          for (let i = 0; i < 15; i++) {
            let t = performance.now();
            mergeLayer.merge(["m"]);
            mergeLayer.weight.dataSync();
            m.push(performance.now() - t);
            t = performance.now();
            mergeLayer.unmerge();
            mergeLayer.weight.dataSync();
            u.push(performance.now() - t);
          }
          return [
            { name: "merge (median of 15)", value: median(m), unit: "ms" },
            { name: "unmerge (median of 15)", value: median(u), unit: "ms" },
          ];
        },
      },
      {
        name: `training step d=${D} batch ${BATCH} (Adam)`,
        cases: [
          { name: "full fine-tuning step", baseline: true, fn: fullStep },
          { name: "LoRA step r=16", fn: loraStep },
        ],
        values: async () => [
          { name: "trainable state, full FT", value: stateBytes([fullW]) / 1e6, unit: "MB" },
          {
            name: "trainable state, LoRA",
            value: stateBytes(loraVars) / 1e6,
            unit: "MB",
            reference: { name: "full FT", value: stateBytes([fullW]) / 1e6 },
          },
        ],
      },
    ];
  },
});
