// `npx tsx --conditions=@lowrank/source examples/src/run.ts language`: trains the byte-level GPT-2 on
// the English UDHR and one LoRA adapter per other language, measures held-out losses and greedy
// continuations, and writes examples/artifacts/udhr-gpt2/ (base, adapters, cards, hub.json).
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { countParameters } from "@lowrank/core";
import { type Gpt2, generate, peftAdapterFromBytes, tokenizerFromJson } from "@lowrank/runtime";
import * as tf from "@tensorflow/tfjs-core";
import { TEXT_LANGUAGES, type TextLanguage, udhrText } from "./data/udhrText.js";
import { savePeftAdapter } from "./lib/artifacts.js";
import { byteTokenizerJson } from "./lib/byteTokenizer.js";
import { CharBigram, identifyLanguage } from "./lib/charBigram.js";
import { meanLoss } from "./lib/lmData.js";
import {
  ADAPTER_LANGUAGES,
  baseFiles,
  LANGUAGE_SETTINGS,
  type LanguageSettings,
  languageSplits,
  runtimeBase,
  trainBase,
  trainLanguageAdapter,
} from "./recipes/language.js";

export const BASE_NAME = "udhr-gpt2";
export const DEFAULT_PROMPT = "Article 3";
export const CONTINUATION_TOKENS = 48;
export const adapterName = (code: TextLanguage) => `${BASE_NAME}-${TEXT_LANGUAGES[code].name.toLowerCase()}`;

export interface LanguageSample {
  /** "base" or the adapter's language. */
  model: "base" | TextLanguage;
  continuation: string;
  detected: TextLanguage;
}

export interface LanguageResult {
  settings: LanguageSettings;
  baseParams: number;
  baseMs: number;
  /** Mean training loss of the base's last epoch (English). */
  baseTrainLoss: number;
  /** Held-out loss (nats per byte) of the base on each declaration. */
  baseLoss: Record<TextLanguage, number>;
  adapters: {
    code: TextLanguage;
    name: string;
    /** Held-out loss on its own language, and on English, with the adapter. */
    loss: number;
    englishLoss: number;
    ms: number;
    trainable: number;
    fraction: number;
  }[];
  prompt: string;
  samples: LanguageSample[];
  totalMs: number;
}

/** Character-bigram models of every declaration's training text (for naming a continuation's language). */
export function languageModels(): Record<TextLanguage, CharBigram> {
  return Object.fromEntries(
    (Object.keys(TEXT_LANGUAGES) as TextLanguage[]).map((c) => [c, new CharBigram(udhrText(c).train)]),
  ) as Record<TextLanguage, CharBigram>;
}

const allLanguages = Object.keys(TEXT_LANGUAGES) as TextLanguage[];

function heldOutLoss(forward: (x: tf.Tensor) => tf.Tensor, code: TextLanguage, s: LanguageSettings): number {
  const { train, test } = languageSplits(code, s.seqLen);
  try {
    return meanLoss(forward, test);
  } finally {
    tf.dispose([train.x, train.y, test.x, test.y]);
  }
}

/** Greedy continuation of `prompt` by the runtime (as the hub's playground computes it), base or with a saved adapter folder. */
export async function greedyContinuation(
  base: Gpt2,
  prompt: string,
  adapterDir?: string,
  maxNewTokens = CONTINUATION_TOKENS,
): Promise<string> {
  const tokenizer = tokenizerFromJson(byteTokenizerJson());
  const adapter = adapterDir
    ? peftAdapterFromBytes(
        path.basename(adapterDir),
        readFileSync(path.join(adapterDir, "adapter_config.json")),
        readFileSync(path.join(adapterDir, "adapter_model.safetensors")),
      )
    : undefined;
  try {
    const r = await generate(base, tokenizer, prompt, { maxNewTokens, eosTokenId: null, adapter });
    return r.completion;
  } finally {
    for (const m of adapter?.modules.values() ?? []) tf.dispose([m.a, m.b]);
  }
}

export async function runLanguageDemo(opts: {
  out: string;
  settings?: LanguageSettings;
  languages?: Exclude<TextLanguage, "eng">[];
  seed?: number;
  prompt?: string;
  log?: (line: string) => void;
}): Promise<LanguageResult> {
  const s = opts.settings ?? LANGUAGE_SETTINGS;
  const seed = opts.seed ?? 0;
  const log = opts.log ?? (() => {});
  const prompt = opts.prompt ?? DEFAULT_PROMPT;
  const t0 = performance.now();
  const perEpoch = Math.ceil((languageSplits("eng", s.seqLen).train.x.shape[0] as number) / s.base.batchSize);
  const { model, losses } = await trainBase(s, seed, (step, total, loss) => {
    if ((step + 1) % 20 === 0 || step + 1 === total) log(`base step ${step + 1}/${total} loss ${loss.toFixed(3)}`);
  });
  const baseMs = performance.now() - t0;
  const baseTrainLoss = losses.slice(-perEpoch).reduce((a, b) => a + b, 0) / Math.min(perEpoch, losses.length);
  rmSync(opts.out, { recursive: true, force: true });
  const baseDir = path.join(opts.out, "base");
  mkdirSync(baseDir, { recursive: true });
  const files = baseFiles(model);
  writeFileSync(path.join(baseDir, "config.json"), `${JSON.stringify(files.config, null, 2)}\n`);
  writeFileSync(path.join(baseDir, "model.safetensors"), files.weights);
  writeFileSync(path.join(baseDir, "tokenizer.json"), `${JSON.stringify(byteTokenizerJson())}\n`);
  const baseParams = [...model.params.values()].reduce((n, v) => n + v.size, 0);
  const gpt2 = runtimeBase(model);
  model.dispose();
  try {
    const baseLoss = Object.fromEntries(
      allLanguages.map((c) => [c, heldOutLoss((x) => gpt2.forward(x), c, s)]),
    ) as Record<TextLanguage, number>;
    log(`base: ${(baseMs / 1000).toFixed(1)} s; held-out ${JSON.stringify(baseLoss)}`);
    const adapters: LanguageResult["adapters"] = [];
    for (const code of opts.languages ?? ADAPTER_LANGUAGES) {
      const a0 = performance.now();
      const { lora } = await trainLanguageAdapter(gpt2, code, s, seed);
      const ms = performance.now() - a0;
      const params = countParameters(lora);
      const loss = heldOutLoss((x) => lora.forward(x), code, s);
      const englishLoss = heldOutLoss((x) => lora.forward(x), "eng", s);
      savePeftAdapter(path.join(opts.out, "adapters", adapterName(code)), lora, "default", {
        base_model_name_or_path: BASE_NAME,
      });
      lora.dispose();
      adapters.push({
        code,
        name: adapterName(code),
        loss,
        englishLoss,
        ms,
        trainable: params.trainable,
        fraction: params.fraction,
      });
      log(`${code}: ${(ms / 1000).toFixed(1)} s; held-out ${baseLoss[code].toFixed(3)} -> ${loss.toFixed(3)}`);
    }
    const models = languageModels();
    const samples: LanguageSample[] = [];
    for (const who of ["base" as const, ...adapters.map((a) => a.code)]) {
      const dir = who === "base" ? undefined : path.join(opts.out, "adapters", adapterName(who));
      const continuation = await greedyContinuation(gpt2, prompt, dir);
      samples.push({ model: who, continuation, detected: identifyLanguage(continuation, models).best });
      log(`${who}: ${JSON.stringify(continuation)}`);
    }
    return {
      settings: s,
      baseParams,
      baseMs,
      baseTrainLoss,
      baseLoss,
      adapters,
      prompt,
      samples,
      totalMs: performance.now() - t0,
    };
  } finally {
    gpt2.dispose();
  }
}
