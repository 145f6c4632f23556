import {
  countParameters,
  injectLora,
  type LoraModel,
  type LossFn,
  type LossName,
  type RankSweepRow,
  rankSweep,
  trainAdapter,
} from "@lowrank/core";
import type * as tf from "@tensorflow/tfjs-core";
import { copyWeights, snapshot, type TaskModel } from "./TaskModel.js";

export interface Split {
  x: tf.Tensor;
  y: tf.Tensor;
}
export interface Domain {
  name: string;
  train: Split;
  test: Split;
}
export interface TrainSettings {
  epochs: number;
  learningRate: number;
  batchSize: number;
}

export interface TaskSpec {
  task: string;
  seed: number;
  /** A fresh, untrained model of the task's architecture (initialization seeded). */
  build(seed: number): TaskModel;
  source: Domain;
  targets: Domain[];
  loss: LossName | LossFn;
  metricName: string;
  /** Metric in [0, 1] (higher is better) of `forward` on a held-out split. */
  evaluate(forward: (x: tf.Tensor) => tf.Tensor, split: Split): number;
  loraConfig(rank: number): Record<string, unknown>;
  base: TrainSettings;
  adapter: TrainSettings & { rank: number };
  full: TrainSettings;
  sweepRanks: number[];
  /** Sees each trained adapter (to save it) before it is disposed. */
  onAdapter?(target: string, lora: LoraModel): void | Promise<void>;
  /** Sees the trained base (to save it). */
  onBase?(base: TaskModel): void | Promise<void>;
  log?(line: string): void;
}

export interface TargetResult {
  name: string;
  base: number;
  lora: number;
  full: number;
  loraTrainable: number;
  loraFraction: number;
  fullTrainable: number;
  loraMs: number;
  fullMs: number;
  /** Base weights bit-identical after LoRA training. */
  baseUntouched: boolean;
}

export interface ExperimentResult {
  task: string;
  baseSource: number;
  baseParams: number;
  baseMs: number;
  targets: TargetResult[];
  sweepTarget: string;
  sweep: RankSweepRow[];
  totalMs: number;
}

const sameWeights = (a: Map<string, Float32Array>, b: Map<string, Float32Array>) =>
  a.size === b.size &&
  [...a].every(([k, v]) => {
    const w = b.get(k);
    return w !== undefined && w.length === v.length && v.every((x, i) => Object.is(x, w[i]));
  });

async function fit(model: TaskModel["full"], data: Split, loss: TaskSpec["loss"], s: TrainSettings, seed: number) {
  return trainAdapter({
    model,
    data,
    loss,
    seed,
    epochs: s.epochs,
    learningRate: s.learningRate,
    batchSize: s.batchSize,
  });
}

/** Trains an adapter of `rank` on `target` over the frozen base; returns metric, parameters and the LoRA model (caller disposes). */
export async function trainLora(
  spec: TaskSpec,
  base: TaskModel,
  target: Domain,
  rank: number,
  settings = spec.adapter,
) {
  const lora = injectLora(base.host, spec.loraConfig(rank), { seed: spec.seed });
  const res = await fit(lora, target.train, spec.loss, settings, spec.seed);
  const metric = spec.evaluate((x) => lora.forward(x), target.test);
  return { lora, metric, params: countParameters(lora), losses: res.losses };
}

/** Base on the source domain; per target: base, LoRA and full fine-tuning; a rank sweep on the first target. */
export async function runExperiment(spec: TaskSpec): Promise<ExperimentResult> {
  const log = spec.log ?? (() => {});
  const t0 = performance.now();
  const base = spec.build(spec.seed);
  try {
    await fit(base.full, spec.source.train, spec.loss, spec.base, spec.seed);
    const baseMs = performance.now() - t0;
    const baseSource = spec.evaluate((x) => base.full.forward(x, {}), spec.source.test);
    const baseParams = [...base.weights().values()].reduce((s, v) => s + v.size, 0);
    log(
      `${spec.task}: base ${(baseSource * 100).toFixed(1)}% on ${spec.source.name} (${(baseMs / 1000).toFixed(1)} s)`,
    );
    await spec.onBase?.(base);
    const targets: TargetResult[] = [];
    for (const target of spec.targets) {
      const baseAcc = spec.evaluate((x) => base.full.forward(x, {}), target.test);
      const before = snapshot(base.weights());
      const l0 = performance.now();
      const { lora, metric, params } = await trainLora(spec, base, target, spec.adapter.rank);
      const loraMs = performance.now() - l0;
      await spec.onAdapter?.(target.name, lora);
      lora.dispose();
      const baseUntouched = sameWeights(before, snapshot(base.weights()));
      const ft = spec.build(spec.seed);
      copyWeights(base, ft);
      const f0 = performance.now();
      await fit(ft.full, target.train, spec.loss, spec.full, spec.seed);
      const fullMs = performance.now() - f0;
      const full = spec.evaluate((x) => ft.full.forward(x, {}), target.test);
      ft.dispose();
      targets.push({
        name: target.name,
        base: baseAcc,
        lora: metric,
        full,
        loraTrainable: params.trainable,
        loraFraction: params.fraction,
        fullTrainable: baseParams,
        loraMs,
        fullMs,
        baseUntouched,
      });
      log(
        `${spec.task}/${target.name}: base ${(baseAcc * 100).toFixed(1)}%, LoRA r=${spec.adapter.rank} ${(metric * 100).toFixed(1)}%, full ${(full * 100).toFixed(1)}%`,
      );
    }
    const sweepTarget = spec.targets[0] as Domain;
    const sweep = await rankSweep({
      ranks: spec.sweepRanks,
      train: async (r) => {
        const { lora, metric, params } = await trainLora(spec, base, sweepTarget, r);
        lora.dispose();
        return { metric, trainableParams: params.trainable, totalParams: params.total };
      },
      onRow: (row) => log(`${spec.task}/${sweepTarget.name}: r=${row.rank} ${(row.metric * 100).toFixed(1)}%`),
    });
    return {
      task: spec.task,
      baseSource,
      baseParams,
      baseMs,
      targets,
      sweepTarget: sweepTarget.name,
      sweep,
      totalMs: performance.now() - t0,
    };
  } finally {
    base.dispose();
  }
}
