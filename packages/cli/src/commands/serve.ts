import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import {
  type BackendRequest,
  createSyntheticCausalLm,
  createSyntheticMlp,
  Engine,
  type EngineServer,
  initBackend,
  isRuntimeError,
  loadBaseModel,
  resolveEngineOptions,
  type ServableBase,
  startEngineServer,
} from "@lowrank/runtime";
import type { Command } from "commander";
import { CliError, EXIT_USAGE } from "../errors.js";
import type { CliIO } from "../output.js";
import { THREADS_HELP, threadsArg } from "../threads.js";

export interface ServeOptions {
  base: string;
  adapters?: string;
  port: number;
  host: string;
  backend: BackendRequest;
  /** wasm threads (number or true = every core); default LOWRANK_WASM_THREADS, else 1. */
  threads?: number | true;
  mode: "unmerged" | "merged";
  maxBatch: number;
  maxWaitMs: number;
  cacheMb: number;
}

/**
 * Opens the base. `synthetic:mlp` and `synthetic:lm` are small built-in models for trying the API;
 * a folder needs the runtime's Hugging Face architectures.
 */
export async function openBase(spec: string): Promise<ServableBase> {
  if (spec === "synthetic:mlp") return createSyntheticMlp({ id: spec, dims: [64, 64, 64, 64] });
  if (spec === "synthetic:lm") return createSyntheticCausalLm({ id: spec, vocab: 256, dim: 64, layers: 2 });
  const info = await stat(spec).catch(() => null);
  if (!info?.isDirectory())
    throw new CliError(`--base: expected a Hugging Face model folder or synthetic:mlp|synthetic:lm, found '${spec}'`);
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
export async function serve(opts: ServeOptions): Promise<EngineServer> {
  if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535)
    throw new CliError(`--port: expected 0..65535, found ${opts.port}`);
  const engineOptions = {
    mode: opts.mode,
    maxBatchSize: opts.maxBatch,
    maxWaitMs: opts.maxWaitMs,
    cacheBytes: opts.cacheMb * 2 ** 20,
  };
  try {
    resolveEngineOptions(engineOptions); // the engine refuses bad values: say so before any work, as a usage error
  } catch (error) {
    if (!isRuntimeError(error)) throw error;
    const flag = error.message.replace(/^maxBatchSize/, "--max-batch").replace(/^maxWaitMs/, "--max-wait-ms");
    throw new CliError(
      flag.replace(/^cacheBytes: .*/, `--cache-mb: expected a finite number >= 0, found ${opts.cacheMb}`),
      "Usage",
      EXIT_USAGE,
    );
  }
  await initBackend({ backend: opts.backend, threads: opts.threads });
  const base = await openBase(opts.base);
  const engine = new Engine(engineOptions);
  engine.addBase(base.id, base);
  const folders = opts.adapters ? await findAdapterFolders(opts.adapters) : [];
  for (const f of folders) engine.registerAdapter(f.name, { kind: "folder", path: f.path });
  return startEngineServer({
    engine,
    host: opts.host,
    port: opts.port,
    adaptersRoot: opts.adapters ? path.resolve(opts.adapters) : undefined,
  });
}

export function registerServe(program: Command, io: CliIO): void {
  program
    .command("serve")
    .description("serve a base model and its LoRA adapters over HTTP (JSON API, dynamic heterogeneous batching)")
    .requiredOption("--base <dir>", "Hugging Face model folder (or synthetic:mlp, synthetic:lm)")
    .option("--adapters <dir>", "folder of PEFT adapter folders, registered by folder name and loaded on demand")
    .option("--port <n>", "port (0 picks a free one)", (v) => Number(v), 8080)
    .option("--host <host>", "interface to listen on", "127.0.0.1")
    .option("--backend <name>", "auto, wasm, cpu, tensorflow, webgpu", "auto")
    .option("--threads <n>", THREADS_HELP, threadsArg)
    .option(
      "--mode <mode>",
      "unmerged (many tenants per batch) or merged (one hot adapter folded into the weights)",
      "unmerged",
    )
    .option("--max-batch <n>", "most requests per batch", (v) => Number(v), 32)
    .option("--max-wait-ms <ms>", "longest a request waits for batch mates", (v) => Number(v), 2)
    .option("--cache-mb <mb>", "byte budget of resident adapters, in MiB", (v) => Number(v), 256)
    .action(async (opts: ServeOptions) => {
      if (opts.mode !== "unmerged" && opts.mode !== "merged")
        throw new CliError(`--mode: expected unmerged or merged, found '${opts.mode}'`);
      const server = await serve(opts);
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
