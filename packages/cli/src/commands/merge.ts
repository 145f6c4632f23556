import { pathExists as exists } from "@lowrank/formats/node";
import { mergeHfFolder } from "@lowrank/runtime";
import type { Command } from "commander";
import { CliError } from "../errors.js";
import { type CliIO, printJson } from "../output.js";
import { type AdapterSpec, parseAdapterSpec } from "./forward.js";

export function registerMerge(program: Command, io: CliIO): void {
  program
    .command("merge")
    .description("merge a PEFT LoRA adapter into a Hugging Face base folder (merge_and_unload) and write a new folder")
    .requiredOption("--base <dir>", "Hugging Face model folder (config.json + model.safetensors)")
    .requiredOption(
      "--adapter <dir[:scale]>",
      "PEFT adapter folder, optionally with a scale (DIR:0.5)",
      parseAdapterSpec,
    )
    .requiredOption("--out <dir>", "folder to write (must not exist unless --force)")
    .option("--force", "replace --out if it exists")
    .option("--json", "print {out, modules, biases, saved}")
    .action(async (opts: { base: string; adapter: AdapterSpec; out: string; force?: boolean; json?: boolean }) => {
      if (!opts.force && (await exists(opts.out)))
        throw new CliError(
          `--out: expected a path that does not exist yet, found ${opts.out} (use --force to replace it)`,
          "OutputExists",
        );
      const report = await mergeHfFolder(opts.base, opts.adapter.dir, opts.out, {
        scale: opts.adapter.scale,
        overwrite: opts.force ?? false,
      });
      if (opts.json) return printJson(io, report);
      io.stdout.write(
        `merged ${report.modules.length} modules${report.biases.length ? ` and ${report.biases.length} biases` : ""}${report.saved.length ? `, replaced ${report.saved.length} modules_to_save parameters` : ""} into ${report.out}\n`,
      );
    });
}
