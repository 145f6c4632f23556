import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { adapterToPeft, countParameters, injectLora, isRecipe, type Recipe, trainAdapter } from "@lowrank/core";
import { serializeSafetensors } from "@lowrank/formats";
import { initBackend } from "@lowrank/runtime";
import * as tf from "@tensorflow/tfjs-core";
import cliProgress from "cli-progress";
import type { Command } from "commander";
import { CliError } from "../errors.js";
import { type CliIO, printJson } from "../output.js";
import { THREADS_HELP, threadsArg } from "../threads.js";

export interface TrainOptions {
  rank?: number;
  epochs?: number;
  seed?: number;
  batchSize?: number;
  learningRate?: number;
  out?: string;
  json?: boolean;
  recipes?: string;
}

export interface TrainSummary {
  recipe: string;
  rank: number;
  epochs: number;
  seed: number;
  steps: number;
  firstLoss: number;
  finalLoss: number;
  metrics: Record<string, number>;
  parameters: { trainable: number; total: number; fraction: number };
  out?: string;
}

/** `examples/src/recipes` found by walking up from `from` (the repository's recipes). */
export function findRecipesDir(from = process.cwd()): string | undefined {
  let dir = path.resolve(from);
  for (;;) {
    const candidate = path.join(dir, "examples", "src", "recipes");
    if (existsSync(candidate)) return candidate;
    const up = path.dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

/** Imports `<dir>/<name>.ts` (or `.js`) and returns the recipe it exports (default or any named export). */
export async function loadRecipe(name: string, dir = findRecipesDir()): Promise<Recipe> {
  if (!/^[A-Za-z0-9_-]+$/.test(name))
    throw new CliError(`recipe: expected a name of letters, digits, - or _, found "${name}"`);
  if (!dir)
    throw new CliError(
      "recipe: expected an examples/src/recipes folder above the current directory (or --recipes DIR), found none",
    );
  const file = [".ts", ".js"].map((ext) => path.join(dir, name + ext)).find((f) => existsSync(f));
  if (!file)
    throw new CliError(`recipe: expected ${path.join(dir, `${name}.ts`)}, found no such file`, "UnknownRecipe");
  const mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  const found = [mod.default, ...Object.values(mod)].find(isRecipe);
  if (!found)
    throw new CliError(`recipe: expected ${file} to export a Recipe (name, load, buildBase, loraConfig), found none`);
  return found;
}

/** Trains a recipe's adapter; `onStep` sees every step. Writes a PEFT folder to `out` when given. */
export async function train(
  recipe: Recipe,
  opts: TrainOptions,
  onStep?: (s: {
    step: number;
    epoch: number;
    loss: number;
    metrics: Record<string, number>;
    totalSteps: number;
  }) => void,
): Promise<TrainSummary> {
  const d = recipe.defaults ?? {};
  const rank = opts.rank ?? d.rank ?? 8;
  const epochs = opts.epochs ?? d.epochs ?? 1;
  const seed = opts.seed ?? d.seed ?? 0;
  const batchSize = opts.batchSize ?? d.batchSize ?? 32;
  const data = await recipe.load({ seed });
  const base = await recipe.buildBase({ seed });
  const lora = injectLora(base, recipe.loraConfig({ rank }), { seed });
  try {
    const n = data.x.shape[0] as number;
    const totalSteps = epochs * Math.ceil(n / batchSize);
    let last = { loss: Number.NaN, metrics: {} as Record<string, number> };
    const res = await trainAdapter({
      model: lora,
      data,
      loss: recipe.loss,
      metrics: recipe.metrics,
      learningRate: opts.learningRate ?? d.learningRate ?? 1e-3,
      epochs,
      batchSize,
      seed,
      onStep: (s) => {
        last = s;
        onStep?.({ ...s, totalSteps });
      },
    });
    let metrics = last.metrics;
    if (data.test) {
      const t = data.test;
      metrics = tf.tidy(() => {
        const p = lora.forward(t.x);
        const out: Record<string, number> = {};
        if (recipe.metrics && Array.isArray(recipe.metrics)) {
          const labels = t.y.rank === p.rank ? tf.argMax(t.y, -1) : tf.cast(t.y, "int32");
          out.test_accuracy = tf.mean(tf.cast(tf.equal(tf.argMax(p, -1), labels), "float32")).dataSync()[0] as number;
        }
        return out;
      });
    }
    const summary: TrainSummary = {
      recipe: recipe.name,
      rank,
      epochs,
      seed,
      steps: res.steps,
      firstLoss: res.losses[0] ?? Number.NaN,
      finalLoss: res.losses.at(-1) ?? Number.NaN,
      metrics,
      parameters: countParameters(lora),
    };
    if (opts.out) {
      const peft = adapterToPeft(lora, "default");
      await mkdir(opts.out, { recursive: true });
      await writeFile(path.join(opts.out, "adapter_config.json"), `${JSON.stringify(peft.config, null, 2)}\n`);
      await writeFile(
        path.join(opts.out, "adapter_model.safetensors"),
        serializeSafetensors(peft.tensors, { format: "pt" }),
      );
      summary.out = path.resolve(opts.out);
    }
    return summary;
  } finally {
    lora.dispose();
    // The base was built for this run: free its weights too (a LinearHost may have no dispose).
    (base as { dispose?: () => unknown }).dispose?.();
    for (const t of [data.x, data.y, data.test?.x, data.test?.y]) t?.dispose();
  }
}

const int = (what: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0)
    throw new CliError(`${what}: expected a non-negative integer, found "${v}"`, "BadOption", 2);
  return n;
};

export function registerTrain(program: Command, io: CliIO): void {
  program
    .command("train")
    .description("train a LoRA adapter with one of the example recipes (examples/src/recipes)")
    .argument("<recipe>", "recipe name, e.g. a file name in examples/src/recipes without .ts")
    .option("--rank <n>", "LoRA rank r", int("--rank"))
    .option("--epochs <n>", "passes over the training data", int("--epochs"))
    .option("--seed <n>", "seed for init, shuffling and dropout", int("--seed"))
    .option("--batch-size <n>", "rows per step", int("--batch-size"))
    .option("--lr <x>", "learning rate (Adam)", Number)
    .option("--out <dir>", "write the adapter as a PEFT folder (adapter_config.json, adapter_model.safetensors)")
    .option("--recipes <dir>", "folder of recipe modules (default: examples/src/recipes above the current directory)")
    .option("--backend <name>", "tfjs backend: auto, wasm, cpu, tensorflow, webgpu", "wasm")
    .option("--threads <n>", THREADS_HELP, threadsArg)
    .option("--json", "JSON lines: one per step, then a summary")
    .action(
      async (
        name: string,
        o: {
          rank?: number;
          epochs?: number;
          seed?: number;
          batchSize?: number;
          lr?: number;
          out?: string;
          recipes?: string;
          backend: string;
          threads?: number | true;
          json?: boolean;
        },
      ) => {
        await initBackend({ backend: o.backend as "wasm", threads: o.threads });
        const recipe = await loadRecipe(name, o.recipes ? path.resolve(o.recipes) : undefined);
        const tty = !o.json && (io.stdout as { isTTY?: boolean }).isTTY === true;
        let bar: cliProgress.SingleBar | undefined;
        const summary = await train(
          recipe,
          { rank: o.rank, epochs: o.epochs, seed: o.seed, batchSize: o.batchSize, learningRate: o.lr, out: o.out },
          (s) => {
            if (o.json)
              return printJson(io, { event: "step", step: s.step, epoch: s.epoch, loss: s.loss, metrics: s.metrics });
            if (tty) {
              if (!bar) {
                bar = new cliProgress.SingleBar(
                  {
                    format: "train {bar} {value}/{total} | epoch {epoch} | loss {loss}",
                    stream: io.stdout as NodeJS.WritableStream as never,
                    hideCursor: true,
                  },
                  cliProgress.Presets.shades_classic,
                );
                bar.start(s.totalSteps, 0, { epoch: 0, loss: "-" });
              }
              bar.update(s.step + 1, { epoch: s.epoch, loss: s.loss.toFixed(4) });
            } else if (s.step + 1 === s.totalSteps || (s.step + 1) % Math.max(1, Math.ceil(s.totalSteps / 10)) === 0) {
              io.stdout.write(`step ${s.step + 1}/${s.totalSteps} epoch ${s.epoch} loss ${s.loss.toFixed(4)}\n`);
            }
          },
        );
        bar?.stop();
        if (o.json) return printJson(io, { event: "done", ...summary });
        const p = summary.parameters;
        io.stdout.write(
          `${summary.recipe}: r=${summary.rank}, ${summary.epochs} epoch(s), ${summary.steps} steps, loss ${summary.firstLoss.toFixed(4)} -> ${summary.finalLoss.toFixed(4)}\n` +
            `trainable ${p.trainable} of ${p.total} parameters (${(100 * p.fraction).toFixed(2)}%)\n` +
            Object.entries(summary.metrics)
              .map(([k, v]) => `${k} ${v.toFixed(4)}\n`)
              .join("") +
            (summary.out ? `adapter written to ${summary.out}\n` : ""),
        );
      },
    );
}
