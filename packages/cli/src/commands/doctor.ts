import { type BackendRequest, initBackend } from "@lowrank/runtime";
import type { Command } from "commander";
import { type CliIO, printJson, printPairs } from "../output.js";
import { dataLocations } from "../paths.js";
import { THREADS_HELP, threadsArg } from "../threads.js";

export interface DoctorReport {
  node: string;
  platform: string;
  backend: { name: string; simd: boolean; threads: number; tfjs: string; notes: string[] };
  database: { kind: "pglite" | "postgres"; location: string };
}

export async function doctor(backend: BackendRequest = "auto", threads?: number | true): Promise<DoctorReport> {
  const info = await initBackend({ backend, threads });
  const where = dataLocations();
  return {
    node: process.versions.node,
    platform: `${process.platform}-${process.arch}`,
    backend: { name: info.backend, simd: info.simd, threads: info.threads, tfjs: info.tfjsVersion, notes: info.notes },
    database: where.database,
  };
}

export function registerDoctor(program: Command, io: CliIO): void {
  program
    .command("doctor")
    .description("check the environment: Node version, tfjs backend and its features, database location")
    .option("--backend <name>", "backend to try: auto, wasm, cpu, tensorflow, webgpu", "auto")
    .option("--threads <n>", THREADS_HELP, threadsArg)
    .option("--json", "print one JSON object")
    .action(async (opts: { backend: BackendRequest; threads?: number | true; json?: boolean }) => {
      const report = await doctor(opts.backend, opts.threads);
      if (opts.json) return printJson(io, report);
      const b = report.backend;
      printPairs(io, [
        ["node", `${report.node} (${report.platform})`],
        ["backend", `${b.name} (tfjs ${b.tfjs}; SIMD ${b.simd ? "on" : "off"}; threads ${b.threads})`],
        ...b.notes.map((n): [string, string] => ["  note", n]),
        ["database", `${report.database.kind} at ${report.database.location}`],
      ]);
    });
}
