import type { BenchRow } from "./harness.js";

function fmtMs(ms: number | undefined): string {
  if (ms === undefined) return "";
  if (ms >= 100) return `${ms.toFixed(0)} ms`;
  if (ms >= 1) return `${ms.toFixed(2)} ms`;
  return `${(ms * 1000).toFixed(1)} µs`;
}

function fmtNum(v: number): string {
  if (Math.abs(v) >= 1000) return v.toLocaleString("en-US", { maximumFractionDigits: 0 });
  if (Math.abs(v) >= 10) return v.toFixed(1);
  return v.toPrecision(3);
}

/** One markdown table: median, p99, rate or value, and ratio to the group's baseline. */
export function renderTable(
  rows: BenchRow[],
  meta: { date: string; node: string; cpus: number; cpuModel: string; durationS: number },
): string {
  const lines = [
    `Benchmarks, ${meta.date} (Node ${meta.node}, ${meta.cpus} × ${meta.cpuModel}, ${meta.durationS} s)`,
    "",
    "| suite | group | case | backend | median | p99 | rate / value | ratio | goal |",
    "|---|---|---|---|---:|---:|---:|---:|---|",
  ];
  for (const r of rows) {
    const rate = r.error
      ? `error: ${r.error.split("\n")[0]}`
      : r.rate
        ? `${fmtNum(r.rate.value)} ${r.rate.unit}`
        : r.value
          ? `${fmtNum(r.value.value)} ${r.value.unit}`
          : "";
    const ratio = r.ratio !== undefined ? `${r.ratio.toFixed(2)}x ${r.ratioOf ? `of ${r.ratioOf}` : ""}`.trim() : "";
    lines.push(
      `| ${r.suite} | ${r.group} | ${r.name} | ${r.backend} | ${fmtMs(r.medianMs)} | ${fmtMs(r.p99Ms)} | ${rate} | ${ratio} | ${r.goal ?? ""} |`,
    );
  }
  return lines.join("\n");
}
