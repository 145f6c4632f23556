import { type GenerateResult, Gpt2, generate, loadTokenizer } from "@lowrank/runtime";
import type { Command } from "commander";
import { startBackend, threadsOption } from "../backend.js";
import { CliError } from "../errors.js";
import { type BackendName, backendOption, numberOption } from "../options.js";
import { type CliIO, printJson, processIO } from "../output.js";
import { type AdapterSpec, disposeLoaded, loadBaseAndAdapter, parseAdapterSpec } from "./forward.js";

export interface GenerateCommandOptions {
  base: string;
  adapter?: AdapterSpec;
  tokenizer?: string;
  prompt: string;
  maxNewTokens?: number;
  temperature?: number;
  topK?: number;
  seed?: number;
  backend?: BackendName;
  threads?: number | true;
}

export async function generateCommand(
  opts: GenerateCommandOptions,
  io: CliIO = processIO,
): Promise<GenerateResult & { adapter?: AdapterSpec }> {
  await startBackend(io, opts.backend, opts.threads);
  const tokenizer = await loadTokenizer(opts.tokenizer ?? opts.base);
  const loaded = await loadBaseAndAdapter(opts.base, opts.adapter);
  try {
    const { model, lora } = loaded;
    if (!(model instanceof Gpt2) || !model.hasLmHead) {
      throw new CliError(`--base: expected a causal language model (GPT2LMHeadModel), found ${model.architecture}`);
    }
    const result = await generate(model, tokenizer, opts.prompt, {
      maxNewTokens: opts.maxNewTokens ?? 20,
      temperature: opts.temperature ?? 0,
      topK: opts.topK ?? 0,
      seed: opts.seed ?? 0,
      ...(lora ? { adapter: lora, scale: opts.adapter?.scale ?? 1 } : {}),
    });
    return { ...result, ...(opts.adapter ? { adapter: opts.adapter } : {}) };
  } finally {
    disposeLoaded(loaded);
  }
}

export function registerGenerate(program: Command, io: CliIO): void {
  program
    .command("generate")
    .description(
      "generate text with a GPT-2 style base (optionally with a PEFT adapter): greedy, or sampled with --temperature",
    )
    .requiredOption(
      "--base <dir>",
      "Hugging Face model folder with a tokenizer (tokenizer.json, or vocab.json + merges.txt)",
    )
    .option("--adapter <dir[:scale]>", "PEFT adapter folder, optionally with a scale (DIR:0.5)", parseAdapterSpec)
    .option("--tokenizer <dir>", "folder of the tokenizer (default: --base)")
    .requiredOption("--prompt <text>", "text to continue")
    .addOption(numberOption("--max-new-tokens <n>", "tokens to generate at most", { integer: true, min: 0 }, 20))
    .addOption(numberOption("--temperature <t>", "0 = greedy; above 0 samples from softmax(logits / t)", { min: 0 }, 0))
    .addOption(
      numberOption("--top-k <k>", "sample among the k most likely tokens (0 = all)", { integer: true, min: 0 }, 0),
    )
    .addOption(numberOption("--seed <s>", "seed of the sampler", { integer: true, min: 0 }, 0))
    .addOption(backendOption())
    .addOption(threadsOption())
    .option("--json", "print {text, completion, promptIds, generatedIds, finishReason}")
    .action(async (opts: GenerateCommandOptions & { json?: boolean }) => {
      const result = await generateCommand(opts, io);
      if (opts.json) {
        const { text, completion, promptIds, generatedIds, finishReason } = result;
        return printJson(io, { text, completion, promptIds, generatedIds, finishReason });
      }
      io.stdout.write(`${result.text}\n`);
    });
}
