import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import {
  adapterToPeft,
  countParameters,
  injectLora,
  isRecipe,
  type LinearHost,
  type Recipe,
  trainAdapter,
} from "@lowrank/core";
import * as tf from "@tensorflow/tfjs-core";
import type { LayersModel } from "@tensorflow/tfjs-layers";
import { CliError } from "../errors.js";
import { writeTrainOutput } from "./trainOutput.js";

export interface TrainOptions {
  rank?: number;
  /** lora_alpha (default: the recipe's). */
  alpha?: number;
  /** target_modules (default: the recipe's). */
  targetModules?: string[];
  epochs?: number;
  seed?: number;
  batchSize?: number;
  learningRate?: number;
  /** Folder to write: the PEFT adapter, and the base it was trained on in `base/`. */
  out?: string;
  /** Replace `out` if it exists. */
  force?: boolean;
}

export type TrainPhase = "data" | "base" | "adapter" | "evaluate" | "write";

/** What a running `train` reports: each phase as it starts, and each optimizer step of the base and the adapter. */
export interface TrainProgress {
  phase?(phase: TrainPhase): void;
  step?(s: {
    phase: "base" | "adapter";
    step: number;
    epoch?: number;
    loss: number;
    metrics?: Record<string, number>;
    totalSteps: number;
  }): void;
}

export interface TrainSummary {
  recipe: string;
  rank: number;
  alpha: number;
  targetModules: unknown;
  epochs: number;
  seed: number;
  steps: number;
  firstLoss: number;
  finalLoss: number;
  metrics: Record<string, number>;
  parameters: { trainable: number; total: number; fraction: number };
  out?: string;
  /** The base folder written beside the adapter (absent when the recipe's base is not a Dense stack). */
  base?: string;
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

/** Recipe names in `dir`: its `.ts`/`.js` modules, less tests and declarations, sorted. */
export function listRecipes(dir = findRecipesDir()): string[] {
  if (!dir || !existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => /^[A-Za-z0-9_-]+\.(ts|js)$/.test(f))
    .map((f) => f.replace(/\.(ts|js)$/, ""))
    .filter((n, i, all) => all.indexOf(n) === i)
    .sort();
}

/** Imports `<dir>/<name>.ts` (or `.js`) and returns the recipe it exports (default or any named export). */
export async function loadRecipe(name: string, dir = findRecipesDir()): Promise<Recipe> {
  if (!dir)
    throw new CliError(
      "recipe: expected an examples/src/recipes folder above the current directory (or --recipes DIR), found none",
      "UnknownRecipe",
    );
  const known = listRecipes(dir);
  const file = known.includes(name)
    ? [".ts", ".js"].map((ext) => path.join(dir, name + ext)).find((f) => existsSync(f))
    : undefined;
  if (!file)
    throw new CliError(
      `recipe: expected one of ${known.join(", ") || "(none)"} (in ${dir}), found "${name}"`,
      "UnknownRecipe",
    );
  const mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  const found = [mod.default, ...Object.values(mod)].find(isRecipe);
  if (!found)
    throw new CliError(
      `recipe: expected ${file} to export a Recipe (name, load, buildBase, loraConfig), found none`,
      "UnknownRecipe",
    );
  return found;
}

/** Trains a recipe's adapter, reporting every phase; writes the adapter and its base to `out` when given. */
export async function train(recipe: Recipe, opts: TrainOptions, progress: TrainProgress = {}): Promise<TrainSummary> {
  const d = recipe.defaults ?? {};
  const rank = opts.rank ?? d.rank ?? 8;
  const epochs = opts.epochs ?? d.epochs ?? 1;
  const seed = opts.seed ?? d.seed ?? 0;
  const batchSize = opts.batchSize ?? d.batchSize ?? 32;
  const config: Record<string, unknown> = {
    ...(recipe.loraConfig({ rank }) as Record<string, unknown>),
    ...(opts.alpha !== undefined ? { lora_alpha: opts.alpha } : {}),
    ...(opts.targetModules ? { target_modules: opts.targetModules } : {}),
  };
  progress.phase?.("data");
  const data = await recipe.load({ seed });
  let base: LayersModel | LinearHost | undefined;
  try {
    progress.phase?.("base");
    base = await recipe.buildBase({ seed, onStep: (s) => progress.step?.({ phase: "base", ...s }) });
    const lora = injectLora(base, config as never, { seed });
    try {
      const n = data.x.shape[0] as number;
      const totalSteps = epochs * Math.ceil(n / batchSize);
      let last = { loss: Number.NaN, metrics: {} as Record<string, number> };
      progress.phase?.("adapter");
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
          progress.step?.({ phase: "adapter", ...s, totalSteps });
        },
      });
      let metrics = last.metrics;
      if (data.test) {
        progress.phase?.("evaluate");
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
        alpha: Number(lora.configs.get("default")?.lora_alpha ?? config.lora_alpha ?? rank),
        targetModules: config.target_modules,
        epochs,
        seed,
        steps: res.steps,
        firstLoss: res.losses[0] ?? Number.NaN,
        finalLoss: res.losses.at(-1) ?? Number.NaN,
        metrics,
        parameters: countParameters(lora),
      };
      if (opts.out) {
        progress.phase?.("write");
        const written = await writeTrainOutput(opts.out, adapterToPeft(lora, "default"), base, opts.force ?? false);
        summary.out = written.out;
        if (written.base) summary.base = written.base;
      }
      return summary;
    } finally {
      lora.dispose();
    }
  } finally {
    // The base was built for this run: free its weights too (a LinearHost may have no dispose).
    (base as { dispose?: () => unknown } | undefined)?.dispose?.();
    for (const t of [data.x, data.y, data.test?.x, data.test?.y]) t?.dispose();
  }
}
