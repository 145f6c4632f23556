/**
 * `pnpm bench [filter]`: runs every suite in bench/suites (or those whose file or suite name
 * contains `filter`), prints one markdown table and writes results/latest.{json,md}.
 */
import { mkdir, readdir, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { initBackend } from "@lowrank/runtime";
import { Bench } from "tinybench";
import type { BenchCase, BenchGroup, BenchRow, BenchSuite } from "./harness.js";
import { renderTable } from "./table.js";

const here = path.dirname(fileURLToPath(import.meta.url));

async function runGroup(suite: BenchSuite, group: BenchGroup, backend: string): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const base = { suite: suite.name, group: group.name, backend, goal: group.goal };
  if (group.cases?.length) {
    // Cases run in interleaved rounds (A B C, then B C A, then C A B) and their samples are pooled, so a
    // slow stretch of this shared machine lands on every case instead of skewing one ratio.
    const rounds = Math.max(1, group.rounds ?? 3);
    const samples = new Map<string, number[]>();
    const errors = new Map<string, string>();
    const n = group.cases.length;
    for (let round = 0; round < rounds; round++) {
      const bench = new Bench({
        time: (group.time ?? 400) / rounds,
        iterations: Math.max(2, Math.ceil((group.iterations ?? 5) / rounds)),
        warmupTime: round === 0 ? 100 : 30,
        retainSamples: true,
      });
      for (let i = 0; i < n; i++) {
        const c = group.cases[(i + round) % n] as BenchCase;
        bench.add(c.name, c.fn, { beforeAll: c.beforeAll, afterAll: c.afterAll });
      }
      await bench.run();
      for (const task of bench.tasks) {
        const r = task.result;
        if (r.state === "errored") errors.set(task.name, r.error.message);
        else if (!("latency" in r)) errors.set(task.name, `state ${r.state}`);
        else samples.set(task.name, [...(samples.get(task.name) ?? []), ...(r.latency.samples ?? [])]);
      }
    }
    const baselineCase = group.cases.find((c) => c.baseline);
    const medians = new Map<string, number>();
    for (const c of group.cases) {
      const error = errors.get(c.name);
      const pooled = (samples.get(c.name) ?? []).sort((x, y) => x - y);
      if (error || pooled.length === 0) {
        rows.push({ ...base, name: c.name, error: error ?? "no samples" });
        continue;
      }
      const medianMs = quantile(pooled, 0.5);
      medians.set(c.name, medianMs);
      rows.push({
        ...base,
        name: c.name,
        medianMs,
        p99Ms: quantile(pooled, 0.99),
        samples: pooled.length,
        rate: c.work ? { value: c.work.amount / (medianMs / 1000), unit: c.work.unit } : undefined,
      });
    }
    const baseMedian = baselineCase ? medians.get(baselineCase.name) : undefined;
    if (baselineCase && baseMedian) {
      for (const row of rows) {
        if (row.medianMs !== undefined)
          Object.assign(row, { ratio: row.medianMs / baseMedian, ratioOf: baselineCase.name });
      }
    }
  }
  if (group.values) {
    for (const v of await group.values()) {
      rows.push({
        ...base,
        name: v.name,
        value: { value: v.value, unit: v.unit },
        ratio: v.reference ? v.value / v.reference.value : undefined,
        ratioOf: v.reference?.name,
      });
    }
  }
  return rows;
}

/** Linear-interpolated quantile of sorted values. */
function quantile(sorted: number[], q: number): number {
  const at = (sorted.length - 1) * q;
  const lo = Math.floor(at);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return (sorted[lo] as number) + ((sorted[hi] as number) - (sorted[lo] as number)) * (at - lo);
}

async function main() {
  const filter = process.argv[2];
  const files = (await readdir(path.join(here, "suites")))
    .filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts"))
    .sort();
  const rows: BenchRow[] = [];
  const started = Date.now();
  for (const file of files) {
    const mod = (await import(path.join(here, "suites", file))) as { default?: BenchSuite };
    const suite = mod.default;
    if (!suite?.groups) {
      process.stderr.write(`bench: skipping ${file}: no default-exported suite\n`);
      continue;
    }
    if (filter && !file.includes(filter) && !suite.name.includes(filter)) continue;
    const info = await initBackend({ backend: suite.backend ?? "wasm" });
    process.stderr.write(`bench: ${suite.name} on ${info.backend}...\n`);
    try {
      for (const group of await suite.groups()) {
        try {
          rows.push(...(await runGroup(suite, group, info.backend)));
        } catch (error) {
          rows.push({
            suite: suite.name,
            group: group.name,
            name: "(group)",
            backend: info.backend,
            error: String(error),
          });
        }
      }
    } finally {
      await suite.dispose?.();
    }
  }
  const meta = {
    date: new Date().toISOString(),
    node: process.versions.node,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? "unknown",
    durationS: Math.round((Date.now() - started) / 1000),
  };
  const md = renderTable(rows, meta);
  process.stdout.write(`${md}\n`);
  await mkdir(path.join(here, "results"), { recursive: true });
  await writeFile(path.join(here, "results", "latest.json"), `${JSON.stringify({ meta, rows }, null, 2)}\n`);
  await writeFile(path.join(here, "results", "latest.md"), `${md}\n`);
  if (rows.some((r) => r.error)) process.exitCode = 1;
}

await main();
