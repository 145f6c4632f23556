import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import {
  createSyntheticCausalLm,
  createSyntheticGpt2,
  createSyntheticMlp,
  Engine,
  type EngineServer,
  GenerationScheduler,
  kvDecoderFor,
  loadBaseModel,
  loadTokenizer,
  type ServableBase,
  startEngineServer,
} from "@lowrank/runtime";
import type { Command } from "commander";
import { startBackend, threadsOption } from "../backend.js";
import { CliError } from "../errors.js";
import { normalizeHubUrl } from "../hub/credentials.js";
import { hubAdapterResolver } from "../hub/hubAdapters.js";
import { type BackendName, backendOption, choiceOption, numberOption } from "../options.js";
import { type CliIO, processIO } from "../output.js";
import { dataLocations } from "../paths.js";

export interface ServeOptions {
  base: string;
  adapters?: string;
  port: number;
  host: string;
  backend: BackendName;
  /** wasm threads (number or true = every core); default LOWRANK_WASM_THREADS, else 1. */
  threads?: number | true;
  mode: "unmerged" | "merged";
  maxBatch: number;
  maxWaitMs: number;
  cacheMb: number;
  /** Load adapters by `owner/name[@version]` from this hub on demand, cached by digest. */
  hub?: string;
  /** Where hub adapters are kept (default `<data dir>/hub-cache`). */
  hubCache?: string;
  /** Byte budget of the KV caches of generation, in MiB (default 256). */
  kvMb?: number;
}

/**
 * Opens the base. `synthetic:mlp` and `synthetic:lm` are small built-in models for trying the API;
 * a folder needs the runtime's Hugging Face architectures.
 */
export async function openBase(spec: string): Promise<ServableBase> {
  if (spec === "synthetic:mlp") return createSyntheticMlp({ id: spec, dims: [64, 64, 64, 64] });
  if (spec === "synthetic:lm") return createSyntheticCausalLm({ id: spec, vocab: 256, dim: 64, layers: 2 });
  if (spec === "synthetic:gpt2") return createSyntheticGpt2({ vocab: 256, dim: 64, layers: 2, heads: 4 });
  const info = await stat(spec).catch(() => null);
  if (!info?.isDirectory())
    throw new CliError(
      `--base: expected a Hugging Face model folder or synthetic:mlp|synthetic:lm|synthetic:gpt2, found '${spec}'`,
    );
  return loadBaseModel(spec);
}

/** PEFT adapter folders under `dir` (each sub-folder with an adapter_config.json, or `dir` itself). */
export async function findAdapterFolders(dir: string): Promise<Array<{ name: string; path: string }>> {
  const root = path.resolve(dir);
  const has = async (p: string) =>
    (await stat(path.join(p, "adapter_config.json")).catch(() => null))?.isFile() ?? false;
  if (await has(root)) return [{ name: path.basename(root), path: root }];
  const entries = await readdir(root, { withFileTypes: true }).catch(() => {
    throw new CliError(`--adapters: expected a folder, found nothing at '${dir}'`);
  });
  const found: Array<{ name: string; path: string }> = [];
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    if (e.isDirectory() && (await has(path.join(root, e.name))))
      found.push({ name: e.name, path: path.join(root, e.name) });
  }
  return found;
}

/** Starts the engine and its HTTP server; the caller closes it. */
export async function serve(opts: ServeOptions, io: CliIO = processIO): Promise<EngineServer> {
  await startBackend(io, opts.backend, opts.threads);
  const base = await openBase(opts.base);
  const engine = new Engine({
    mode: opts.mode,
    maxBatchSize: opts.maxBatch,
    maxWaitMs: opts.maxWaitMs,
    cacheBytes: opts.cacheMb * 2 ** 20,
  });
  engine.addBase(base.id, base);
  const folders = opts.adapters ? await findAdapterFolders(opts.adapters) : [];
  for (const f of folders) engine.registerAdapter(f.name, { kind: "folder", path: f.path });
  const fromHub = opts.hub
    ? hubAdapterResolver(
        io,
        normalizeHubUrl(opts.hub),
        path.resolve(opts.hubCache ?? path.join(dataLocations().dataDir, "hub-cache")),
      )
    : undefined;
  // KV-cached generation and the OpenAI routes, when the base can generate with a cache (GPT-2 LM head).
  const canGenerate = kvDecoderFor(base) !== undefined;
  const tokenizer =
    canGenerate && !opts.base.startsWith("synthetic:")
      ? await loadTokenizer(opts.base).catch(() => undefined)
      : undefined;
  return startEngineServer({
    tokenizer,
    openai: canGenerate
      ? {
          scheduler: new GenerationScheduler(engine, { kvBytes: (opts.kvMb ?? 256) * 2 ** 20 }),
          tokenizer,
          baseModel: opts.base.startsWith("synthetic:") ? opts.base : path.basename(path.resolve(opts.base)),
        }
      : undefined,
    engine,
    host: opts.host,
    port: opts.port,
    adaptersRoot: opts.adapters ? path.resolve(opts.adapters) : undefined, // loads by path stay inside it
    resolveAdapterPath: fromHub, // owner/name[@version] pulled from --hub into its cache folder
  });
}

export function registerServe(program: Command, io: CliIO): void {
  program
    .command("serve")
    .description("serve a base model and its LoRA adapters over HTTP (JSON API, dynamic heterogeneous batching)")
    .requiredOption("--base <dir>", "Hugging Face model folder (or synthetic:mlp, synthetic:lm, synthetic:gpt2)")
    .option("--adapters <dir>", "folder of PEFT adapter folders, registered by folder name and loaded on demand")
    .addOption(numberOption("--port <n>", "port (0 picks a free one)", { integer: true, min: 0, max: 65535 }, 8080))
    .option("--host <host>", "interface to listen on", "127.0.0.1")
    .addOption(backendOption())
    .addOption(threadsOption())
    .addOption(
      choiceOption(
        "--mode <mode>",
        "unmerged: many tenants per batch; merged: one hot adapter folded into the weights",
        ["unmerged", "merged"] as const,
        "unmerged",
      ),
    )
    .addOption(numberOption("--max-batch <n>", "most requests per batch", { integer: true, min: 1 }, 32))
    .addOption(numberOption("--max-wait-ms <ms>", "longest a request waits for batch mates", { min: 0 }, 2))
    .addOption(numberOption("--cache-mb <mb>", "byte budget of resident adapters, in MiB", { min: 0 }, 256))
    .option(
      "--hub <url>",
      "load adapters by owner/name[@version] from this hub on demand (POST /v1/adapters/load {name})",
    )
    .option("--hub-cache <dir>", "where pulled hub adapters are kept, by digest (default <data dir>/hub-cache)")
    .addOption(numberOption("--kv-mb <mb>", "byte budget of the KV caches of generation, in MiB", { min: 1 }, 256))
    .action(async (opts: ServeOptions) => {
      const server = await serve(opts, io);
      io.stdout.write(`lowrank serve: listening on ${server.url} (base ${opts.base})\n`);
      await new Promise<void>((resolve) => {
        const stop = (signal: string) => {
          process.off("SIGINT", onInt);
          process.off("SIGTERM", onTerm);
          io.stdout.write(`lowrank serve: ${signal}, finishing in-flight requests\n`);
          void server.close().then(resolve);
        };
        const onInt = () => stop("SIGINT");
        const onTerm = () => stop("SIGTERM");
        process.on("SIGINT", onInt);
        process.on("SIGTERM", onTerm);
      });
      io.stdout.write("lowrank serve: stopped\n");
    });
}
