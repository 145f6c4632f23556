/**
 * The benchmark harness behind `pnpm bench`.
 *
 * A suite is a file in `bench/suites/` whose default export is a `BenchSuite`. Each group of
 * cases runs side by side in the same process, and every case's median is reported next to its
 * group's baseline as a ratio: on a shared, noisy machine ratios measured together mean more
 * than lone times.
 */
import type { BackendRequest } from "@lowrank/runtime";

export interface BenchCase {
  name: string;
  /** The work measured; called many times. */
  fn: () => unknown | Promise<unknown>;
  /** The case other cases in the group are compared to (at most one per group). */
  baseline?: boolean;
  /** Work per call, to report a rate next to the time (e.g. 2·n³/1e9 GFLOP, or bytes/1e6 MB). */
  work?: { amount: number; unit: "GFLOP/s" | "MB/s" | "rows/s" | "req/s" };
  beforeAll?: () => void | Promise<void>;
  afterAll?: () => void | Promise<void>;
}

/** A measured value that is not a time per call (memory, percentiles, throughput of a server...). */
export interface BenchValue {
  name: string;
  value: number;
  unit: string;
  /** Optional reference value measured in the same run, reported as value/reference. */
  reference?: { name: string; value: number };
}

export interface BenchGroup {
  name: string;
  /** The target for this group, shown in the table (e.g. "≤ 1.10x"). */
  goal?: string;
  cases?: BenchCase[];
  /** Extra measurements computed by the suite itself. */
  values?: () => Promise<BenchValue[]>;
  /** tinybench time budget per case in ms (default 400) and minimum iterations (default 5), over all rounds. */
  time?: number;
  iterations?: number;
  /** Interleaved rounds whose samples are pooled (default 3), so drift hits every case alike. */
  rounds?: number;
}

export interface BenchSuite {
  name: string;
  /** Backend to initialize before the suite (default wasm). */
  backend?: BackendRequest;
  groups: () => Promise<BenchGroup[]>;
  dispose?: () => unknown | Promise<unknown>;
}

export interface BenchRow {
  suite: string;
  group: string;
  name: string;
  backend: string;
  medianMs?: number;
  p99Ms?: number;
  samples?: number;
  rate?: { value: number; unit: string };
  value?: { value: number; unit: string };
  /** Median over the group's baseline median (time ratio), or value over its reference. */
  ratio?: number;
  ratioOf?: string;
  goal?: string;
  error?: string;
}

export function defineSuite(suite: BenchSuite): BenchSuite {
  return suite;
}
