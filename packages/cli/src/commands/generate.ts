import { type BackendRequest, type GenerateResult, Gpt2, generate, initBackend, loadTokenizer } from "@lowrank/runtime";
import type { Command } from "commander";
import { CliError } from "../errors.js";
import { type CliIO, printJson } from "../output.js";
import { THREADS_HELP, threadsArg } from "../threads.js";
import { type AdapterSpec, disposeLoaded, loadBaseAndAdapter, parseAdapterSpec, parseNumberArg } from "./forward.js";

export interface GenerateCommandOptions {
  base: string;
  adapter?: AdapterSpec;
  tokenizer?: string;
  prompt: string;
  maxNewTokens?: number;
  temperature?: number;
  topK?: number;
  seed?: number;
  backend?: BackendRequest;
  threads?: number | true;
}

export async function generateCommand(
  opts: GenerateCommandOptions,
): Promise<GenerateResult & { adapter?: AdapterSpec }> {
  await initBackend({ backend: opts.backend ?? "auto", threads: opts.threads });
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
    .option("--max-new-tokens <n>", "tokens to generate at most", parseNumberArg("int", 0), 20)
    .option("--temperature <t>", "0 = greedy; above 0 samples from softmax(logits / t)", parseNumberArg("number", 0), 0)
    .option("--top-k <k>", "sample among the k most likely tokens (0 = all)", parseNumberArg("int", 0), 0)
    .option("--seed <s>", "seed of the sampler", parseNumberArg("int", 0), 0)
    .option("--backend <name>", "tfjs backend: auto, wasm, cpu, tensorflow, webgpu", "auto")
    .option("--threads <n>", THREADS_HELP, threadsArg)
    .option("--json", "print {text, completion, promptIds, generatedIds, finishReason}")
    .action(async (opts: GenerateCommandOptions & { json?: boolean }) => {
      const result = await generateCommand(opts);
      if (opts.json) {
        const { text, completion, promptIds, generatedIds, finishReason } = result;
        return printJson(io, { text, completion, promptIds, generatedIds, finishReason });
      }
      io.stdout.write(`${result.text}\n`);
    });
}
