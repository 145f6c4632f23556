import type { Command } from "commander";
import { startBackend, threadsOption } from "../backend.js";
import { type BackendName, backendOption } from "../options.js";
import { type CliIO, printJson, printPairs, processIO } from "../output.js";
import { dataLocations } from "../paths.js";

export interface DoctorReport {
  node: string;
  platform: string;
  backend: { name: string; simd: boolean; threads: number; tfjs: string; notes: string[] };
  database: { kind: "pglite" | "postgres"; location: string };
  /** Where the hub keeps adapter files (the CLI itself stores none). */
  blobs: { kind: "files" | "s3"; location: string };
}

export async function doctor(
  backend: BackendName = "auto",
  threads?: number | true,
  io: CliIO = processIO,
): Promise<DoctorReport> {
  const info = await startBackend(io, backend, threads);
  const where = dataLocations();
  return {
    node: process.versions.node,
    platform: `${process.platform}-${process.arch}`,
    backend: { name: info.backend, simd: info.simd, threads: info.threads, tfjs: info.tfjsVersion, notes: info.notes },
    database: where.database,
    blobs: where.blobs,
  };
}

export function registerDoctor(program: Command, io: CliIO): void {
  program
    .command("doctor")
    .description(
      "check the environment: Node version, tfjs backend and its features, the hub's database and blob store",
    )
    .addOption(backendOption())
    .addOption(threadsOption())
    .option("--json", "print one JSON object")
    .action(async (opts: { backend: BackendName; threads?: number | true; json?: boolean }) => {
      const report = await doctor(opts.backend, opts.threads, io);
      if (opts.json) return printJson(io, report);
      const b = report.backend;
      printPairs(io, [
        ["node", `${report.node} (${report.platform})`],
        ["backend", `${b.name} (tfjs ${b.tfjs}; SIMD ${b.simd ? "on" : "off"}; threads ${b.threads})`],
        ...b.notes.map((n): [string, string] => ["  note", n]),
        ["database", `${report.database.kind} at ${report.database.location}`],
        ["hub blobs", `${report.blobs.kind} at ${report.blobs.location}`],
      ]);
    });
}
