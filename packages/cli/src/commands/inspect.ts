import path from "node:path";
import {
  adapterDigest,
  ggufMetadataToJson,
  isKohyaLora,
  kohyaToPeft,
  PEFT_CONFIG_FILE,
  PEFT_WEIGHTS_FILE,
  peftTensors,
  sha256Hex,
} from "@lowrank/formats";
import { openGgufFile, openSafetensors, readBaseManifest, readPeftFolder } from "@lowrank/formats/node";
import type { Command } from "commander";
import { type CliIO, printJson, processIO } from "../output.js";
import { detectInput, readBytes } from "./detectInput.js";

export interface InspectReport {
  format: "safetensors" | "peft" | "gguf" | "hf-model" | "kohya";
  /** In natural order of their names (`h.2` before `h.10`). */
  tensors: Array<{ name: string; dtype: string; shape: number[] }>;
  /** How many tensors, parameters (elements) and bytes of tensor data. */
  totals: { tensors: number; parameters: number; bytes: number };
  config: Record<string, unknown> | null;
  metadata: Record<string, unknown>;
  digest: string;
}

type TensorRow = InspectReport["tensors"][number] & { bytes: number };

/** Natural order: digit runs compare as numbers (`h.2` < `h.10`), the rest by code unit. */
export function naturalCompare(a: string, b: string): number {
  const x = a.split(/(\d+)/);
  const y = b.split(/(\d+)/);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const [p, q] = [x[i] as string, y[i] as string];
    if (p === q) continue;
    if (i % 2 === 1) {
      const d = Number(p) - Number(q) || p.length - q.length;
      if (d !== 0) return d;
    }
    return p < q ? -1 : 1;
  }
  return x.length - y.length;
}

/** The report's tensors (sorted, without byte counts) and their totals. */
function tensorsAndTotals(rows: TensorRow[]): Pick<InspectReport, "tensors" | "totals"> {
  const sorted = [...rows].sort((a, b) => naturalCompare(a.name, b.name));
  return {
    tensors: sorted.map(({ name, dtype, shape }) => ({ name, dtype, shape })),
    totals: {
      tensors: rows.length,
      parameters: rows.reduce((n, t) => n + t.shape.reduce((p, d) => p * d, 1), 0),
      bytes: rows.reduce((n, t) => n + t.bytes, 0),
    },
  };
}

async function safetensorsHeader(file: string): Promise<{ tensors: TensorRow[]; metadata: Record<string, string> }> {
  const lazy = await openSafetensors(file);
  try {
    return {
      tensors: [...lazy.tensors].map(([name, t]) => ({
        name,
        dtype: t.dtype,
        shape: [...t.shape],
        bytes: t.dataOffsets[1] - t.dataOffsets[0],
      })),
      metadata: { ...(lazy.metadata ?? {}) },
    };
  } finally {
    await lazy.close();
  }
}

/**
 * Describes PATH without loading weights where it can: safetensors and GGUF are read header first
 * (the digest then hashes the file), a model folder through config.json and its checkpoint header
 * (digest: the base manifest's), a PEFT folder through its two files (digest: `adapterDigest`).
 */
export async function inspect(p: string): Promise<InspectReport> {
  const kind = await detectInput(p);
  if (kind === "peft") {
    const { adapter, warnings } = await readPeftFolder(p);
    const canonical = {
      [PEFT_CONFIG_FILE]: await readBytes(path.join(p, PEFT_CONFIG_FILE)),
      [PEFT_WEIGHTS_FILE]: await readBytes(path.join(p, PEFT_WEIGHTS_FILE)),
    };
    return {
      format: "peft",
      ...tensorsAndTotals(
        Object.entries(peftTensors(adapter)).map(([name, t]) => ({
          name,
          dtype: t.dtype,
          shape: [...t.shape],
          bytes: t.data.byteLength,
        })),
      ),
      config: adapter.config,
      metadata: {
        safetensors: adapter.metadata ?? {},
        modelCard: adapter.modelCard?.data ?? null,
        modules: Object.keys(adapter.modules).length,
        warnings,
      },
      digest: adapterDigest(canonical),
    };
  }
  if (kind === "hf-model") {
    const manifest = await readBaseManifest(p);
    const config = JSON.parse(new TextDecoder().decode(await readBytes(path.join(p, "config.json"))));
    const weights = path.join(p, "model.safetensors");
    const header = await safetensorsHeader(weights).catch(() => ({ tensors: [], metadata: {} }));
    return {
      format: "hf-model",
      ...tensorsAndTotals(header.tensors),
      config,
      metadata: {
        safetensors: header.metadata,
        architecture: manifest.architecture,
        modelType: manifest.modelType,
        modules: Object.keys(manifest.modules).length,
      },
      digest: manifest.digest,
    };
  }
  if (kind === "gguf") {
    const gguf = await openGgufFile(p);
    await gguf.close();
    return {
      format: "gguf",
      ...tensorsAndTotals(
        gguf.tensors.map((t) => ({ name: t.name, dtype: t.type.name, shape: [...t.dims], bytes: t.byteLength })),
      ),
      config: null,
      metadata: {
        version: gguf.header.version,
        alignment: gguf.header.alignment,
        dataOffset: gguf.header.dataOffset,
        ...ggufMetadataToJson(gguf.metadata),
      },
      digest: sha256Hex(await readBytes(p)),
    };
  }
  const header = await safetensorsHeader(p);
  const digest = sha256Hex(await readBytes(p));
  if (isKohyaLora(header.tensors.map((t) => t.name))) {
    const lazy = await openSafetensors(p);
    let configs: Record<string, unknown> = {};
    try {
      const tensors: Record<string, { dtype: never; shape: number[]; data: Uint8Array }> = {};
      for (const name of lazy.names()) tensors[name] = (await lazy.readTensor(name)) as never;
      configs = Object.fromEntries(Object.entries(kohyaToPeft(tensors).adapters).map(([c, a]) => [c, a.config]));
    } finally {
      await lazy.close();
    }
    return { format: "kohya", ...tensorsAndTotals(header.tensors), config: configs, metadata: header.metadata, digest };
  }
  return {
    format: "safetensors",
    ...tensorsAndTotals(header.tensors),
    config: null,
    metadata: header.metadata,
    digest,
  };
}

function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} bytes` : `${v.toFixed(1)} ${units[u]} (${n.toLocaleString("en-US")} bytes)`;
}

function clip(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max - 3)}...` : s;
}

function printTable(io: CliIO, r: InspectReport): void {
  io.stdout.write(`format  ${r.format}\ndigest  ${r.digest}\n`);
  if (r.config) {
    const c = r.config as Record<string, unknown>;
    const keys = [
      "r",
      "lora_alpha",
      "target_modules",
      "fan_in_fan_out",
      "base_model_name_or_path",
      "model_type",
      "architectures",
    ].filter((k) => c[k] !== undefined);
    for (const k of keys) io.stdout.write(`${k.padEnd(24)}${JSON.stringify(c[k])}\n`);
  }
  const warnings = (r.metadata as { warnings?: string[] }).warnings ?? [];
  for (const w of warnings) io.stdout.write(`warning: ${w}\n`);
  const t = r.totals;
  io.stdout.write(
    `totals  ${t.tensors} tensors, ${t.parameters.toLocaleString("en-US")} parameters, ${formatBytes(t.bytes)}\n`,
  );
  // The file's own key-value metadata (GGUF header, safetensors __metadata__).
  if (r.format === "gguf" || r.format === "safetensors" || r.format === "kohya") {
    const entries = Object.entries(r.metadata);
    if (entries.length) {
      io.stdout.write("\nmetadata\n");
      const width = Math.min(48, Math.max(...entries.map(([k]) => k.length)));
      for (const [k, v] of entries)
        io.stdout.write(`  ${k.padEnd(width)}  ${clip(JSON.stringify(v) ?? "null", 100)}\n`);
    }
  }
  const nameWidth = Math.min(80, Math.max(4, ...r.tensors.map((t) => t.name.length)));
  io.stdout.write(`\n${"name".padEnd(nameWidth)}  ${"dtype".padEnd(6)}  shape\n`);
  for (const t of r.tensors)
    io.stdout.write(`${t.name.padEnd(nameWidth)}  ${t.dtype.padEnd(6)}  [${t.shape.join(", ")}]\n`);
  io.stdout.write(`${r.tensors.length} tensors\n`);
}

export function registerInspect(program: Command, io: CliIO = processIO): void {
  program
    .command("inspect")
    .description("describe a safetensors file, PEFT adapter folder, GGUF file, kohya LoRA or Hugging Face model folder")
    .argument("<path>", "file or folder")
    .option("--json", 'print one JSON object {"format","tensors","config","metadata","digest"}')
    .action(async (p: string, opts: { json?: boolean }) => {
      const report = await inspect(p);
      if (opts.json) printJson(io, report);
      else printTable(io, report);
    });
}
