import { CoreError } from "../errors.js";

/** What one training run at a given rank reports. */
export interface RankTrial {
  metric: number;
  trainableParams: number;
  /** All parameters (base + adapter); the fraction is trainable / total. */
  totalParams: number;
}

export interface RankSweepRow {
  rank: number;
  trainableParams: number;
  fraction: number;
  metric: number;
  timeMs: number;
}

export interface RankSweepOptions {
  ranks: number[];
  /** Trains (and evaluates) an adapter of rank `r`. Runs one at a time, in the given order. */
  train: (rank: number) => Promise<RankTrial> | RankTrial;
  /** Called after each rank (progress). */
  onRow?: (row: RankSweepRow) => void;
  /** Clock in ms (default `performance.now`). */
  now?: () => number;
}

/** Trains at each rank and tabulates trainable parameters, their fraction, the metric and wall time. */
export async function rankSweep(opts: RankSweepOptions): Promise<RankSweepRow[]> {
  const now = opts.now ?? (() => performance.now());
  for (const r of opts.ranks)
    if (!Number.isInteger(r) || r <= 0)
      throw new CoreError("InvalidArgument", `rankSweep: expected positive integer ranks, found ${r}`);
  const rows: RankSweepRow[] = [];
  for (const rank of opts.ranks) {
    const t0 = now();
    const trial = await opts.train(rank);
    const row: RankSweepRow = {
      rank,
      trainableParams: trial.trainableParams,
      fraction: trial.totalParams === 0 ? 0 : trial.trainableParams / trial.totalParams,
      metric: trial.metric,
      timeMs: now() - t0,
    };
    rows.push(row);
    opts.onRow?.(row);
  }
  return rows;
}
