import { describe, expect, it } from "vitest";
import type { BenchRow } from "./harness.js";
import { renderTable } from "./table.js";

const meta = { date: "2026-01-01T00:00:00.000Z", node: "20", cpus: 2, cpuModel: "test", durationS: 1 };

describe("renderTable", () => {
  it("prints one row per case with ratio to the baseline and rates", () => {
    const rows: BenchRow[] = [
      { suite: "s", group: "g", name: "base", backend: "wasm", medianMs: 2, p99Ms: 3, ratio: 1, ratioOf: "base" },
      {
        suite: "s",
        group: "g",
        name: "lora",
        backend: "wasm",
        medianMs: 0.5,
        rate: { value: 42.123, unit: "GFLOP/s" },
        ratio: 0.25,
        ratioOf: "base",
        goal: "≤ 1.10x",
      },
      { suite: "s", group: "g", name: "bad", backend: "wasm", error: "boom\nstack" },
    ];
    const md = renderTable(rows, meta).split("\n");
    expect(md[2]).toMatch(/^\| suite \| group \| case/);
    expect(md[4]).toBe("| s | g | base | wasm | 2.00 ms | 3.00 ms |  | 1.00x of base |  |");
    expect(md[5]).toBe("| s | g | lora | wasm | 500.0 µs |  | 42.1 GFLOP/s | 0.25x of base | ≤ 1.10x |");
    expect(md[6]).toContain("error: boom |");
  });
});
