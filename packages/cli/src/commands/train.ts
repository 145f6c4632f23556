import path from "node:path";
import { pathExists as exists } from "@lowrank/formats/node";
import cliProgress from "cli-progress";
import type { Command } from "commander";
import { startBackend, threadsOption } from "../backend.js";
import { CliError } from "../errors.js";
import { type BackendName, backendOption, numberOption, parseNameList } from "../options.js";
import { type CliIO, printJson } from "../output.js";
import { listRecipes, loadRecipe, type TrainOptions, type TrainPhase, type TrainProgress, train } from "./trainRun.js";

export {
  findRecipesDir,
  listRecipes,
  loadRecipe,
  type TrainOptions,
  type TrainSummary,
  train,
} from "./trainRun.js";

const PHASES: Record<TrainPhase, string> = {
  data: "loading the data",
  base: "building the base model",
  adapter: "training the adapter",
  evaluate: "evaluating on the test split",
  write: "writing the adapter",
};

/** Progress as the output allows: JSON events, a bar per phase on a terminal, else a line per phase and per 10%. */
function progressFor(io: CliIO, json: boolean): TrainProgress & { stop(): void } {
  const tty = !json && (io.stdout as { isTTY?: boolean }).isTTY === true;
  let bar: cliProgress.SingleBar | undefined;
  const stop = () => {
    bar?.stop();
    bar = undefined;
  };
  return {
    stop,
    phase(phase) {
      stop();
      if (json) printJson(io, { event: "phase", phase });
      else io.stdout.write(`${PHASES[phase]}...\n`);
    },
    step(s) {
      if (json) {
        const { phase, ...rest } = s;
        return printJson(io, { event: phase === "adapter" ? "step" : "base-step", ...rest });
      }
      if (tty) {
        if (!bar) {
          bar = new cliProgress.SingleBar(
            {
              format: `${s.phase.padEnd(7)} {bar} {value}/{total} | loss {loss}`,
              stream: io.stdout as NodeJS.WritableStream as never,
              hideCursor: true,
            },
            cliProgress.Presets.shades_classic,
          );
          bar.start(s.totalSteps, 0, { loss: "-" });
        }
        bar.update(s.step + 1, { loss: s.loss.toFixed(4) });
      } else if (s.step + 1 === s.totalSteps || (s.step + 1) % Math.max(1, Math.ceil(s.totalSteps / 10)) === 0) {
        io.stdout.write(`${s.phase} step ${s.step + 1}/${s.totalSteps} loss ${s.loss.toFixed(4)}\n`);
      }
    },
  };
}

type TrainCliOptions = Omit<TrainOptions, "learningRate"> & {
  lr?: number;
  recipes?: string;
  backend: BackendName;
  threads?: number | true;
  json?: boolean;
};

export function registerTrain(program: Command, io: CliIO): void {
  program
    .command("train")
    .description("train a LoRA adapter with one of the example recipes (examples/src/recipes)")
    .argument("<recipe>", "recipe name (see the list below, or --recipes DIR)")
    .addOption(numberOption("--rank <n>", "LoRA rank r", { integer: true, min: 1 }))
    .addOption(
      numberOption("--alpha <x>", "lora_alpha (scale = alpha / r; default: the recipe's)", { min: 0, aboveMin: true }),
    )
    .option("--target-modules <names>", "comma-separated module names to adapt (default: the recipe's)", (v: string) =>
      parseNameList("--target-modules", v),
    )
    .addOption(numberOption("--epochs <n>", "passes over the training data", { integer: true, min: 1 }))
    .addOption(numberOption("--seed <n>", "seed for init, shuffling and dropout", { integer: true, min: 0 }))
    .addOption(numberOption("--batch-size <n>", "rows per step", { integer: true, min: 1 }))
    .addOption(numberOption("--lr <x>", "learning rate (Adam)", { min: 0, aboveMin: true }))
    .option("--out <dir>", "write the PEFT adapter folder, with the base it was trained on in <dir>/base")
    .option("--force", "replace --out if it exists")
    .option("--recipes <dir>", "folder of recipe modules (default: examples/src/recipes above the current directory)")
    .addOption(backendOption("wasm"))
    .addOption(threadsOption())
    .option("--json", "JSON lines: phases, one line per step, then a summary")
    .addHelpText("after", () => {
      const names = listRecipes();
      return names.length ? `\nRecipes (examples/src/recipes): ${names.join(", ")}\n` : "";
    })
    .action(async (name: string, { lr, recipes, backend, threads, json, ...o }: TrainCliOptions) => {
      // Everything the options decide is checked before any work: the values by their parsers, here the rest.
      if (o.out && !o.force && (await exists(o.out)))
        throw new CliError(
          `--out: expected a path that does not exist yet, found ${o.out} (use --force to replace it)`,
          "OutputExists",
        );
      const recipe = await loadRecipe(name, recipes ? path.resolve(recipes) : undefined);
      await startBackend(io, backend, threads);
      const progress = progressFor(io, json === true);
      const summary = await train(recipe, { ...o, learningRate: lr }, progress).finally(() => progress.stop());
      if (json) return printJson(io, { event: "done", ...summary });
      const p = summary.parameters;
      io.stdout.write(
        `${summary.recipe}: r=${summary.rank}, alpha=${summary.alpha}, ${summary.epochs} epoch(s), ${summary.steps} steps, loss ${summary.firstLoss.toFixed(4)} -> ${summary.finalLoss.toFixed(4)}\n` +
          `trainable ${p.trainable} of ${p.total} parameters (${(100 * p.fraction).toFixed(2)}%)\n` +
          Object.entries(summary.metrics)
            .map(([k, v]) => `${k} ${v.toFixed(4)}\n`)
            .join("") +
          (summary.out ? `adapter written to ${summary.out}\n` : "") +
          (summary.base
            ? `base written to ${summary.base} (lowrank forward --base ${summary.base} --adapter ${summary.out} ...)\n`
            : summary.out
              ? `base not written: ${summary.recipe}'s base is not a stack of Dense layers, the only base lowrank saves\n`
              : ""),
      );
    });
}
