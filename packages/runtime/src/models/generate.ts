import { Rng } from "@lowrank/core";
import * as tf from "@tensorflow/tfjs-core";
import { RuntimeError } from "../backend/errors.js";
import type { AdapterWeights, LinearFn } from "../engine/types.js";
import type { TextTokenizer } from "../tokenizer/loadTokenizer.js";
import { adapterLinear } from "./adapterLinear.js";
import { disposeCache, type Gpt2, type KvCache } from "./Gpt2.js";
import { type SamplingOptions, sampleToken, validateSampling } from "./sampleToken.js";

export interface GenerateOptions extends SamplingOptions {
  /** Tokens to generate at most (default 20). */
  maxNewTokens?: number;
  /** Seed of the sampler (default 0); the same seed gives the same tokens. */
  seed?: number;
  /** A PEFT adapter to apply, at `scale` times its alpha/r (default 1). */
  adapter?: AdapterWeights;
  scale?: number;
  /** Stop at the end-of-sequence token (default: the tokenizer's, else the model config's). Null: never stop early. */
  eosTokenId?: number | null;
}

export interface GenerateIdsResult {
  promptIds: number[];
  generatedIds: number[];
  finishReason: "length" | "eos" | "context";
}

export interface GenerateResult extends GenerateIdsResult {
  /** Prompt and completion decoded together. */
  text: string;
  completion: string;
}

/**
 * Autoregressive decoding on a GPT-2 LM head model with a KV cache: the prompt runs once, then one
 * position per step. Greedy unless `temperature` > 0 (then top-k sampling with a seeded generator).
 */
export async function generateIds(
  model: Gpt2,
  promptIds: readonly number[],
  options: GenerateOptions = {},
): Promise<GenerateIdsResult> {
  if (!model.hasLmHead)
    throw new RuntimeError(
      "InvalidArgument",
      `generate: expected a model with an LM head (GPT2LMHeadModel), found ${model.architecture}`,
    );
  validateSampling(options);
  const maxNew = options.maxNewTokens ?? 20;
  if (!(Number.isInteger(maxNew) && maxNew >= 0))
    throw new RuntimeError("InvalidArgument", `maxNewTokens: expected an integer >= 0, found ${maxNew}`);
  const vocab = model.hparams.vocabSize;
  let ids = [...promptIds];
  if (ids.length === 0) {
    if (model.hparams.bosTokenId === undefined)
      throw new RuntimeError(
        "InvalidArgument",
        "generate: expected a non-empty prompt (the model has no bos_token_id to start from), found none",
      );
    ids = [model.hparams.bosTokenId];
  }
  const bad = ids.find((id) => !(Number.isInteger(id) && id >= 0 && id < vocab));
  if (bad !== undefined)
    throw new RuntimeError("InvalidArgument", `generate: expected token ids in [0, ${vocab}), found ${bad}`);
  if (ids.length > model.hparams.nPositions) {
    throw new RuntimeError(
      "InvalidArgument",
      `generate: expected a prompt of at most n_positions=${model.hparams.nPositions} tokens, found ${ids.length}`,
    );
  }
  const eos = options.eosTokenId === undefined ? model.hparams.eosTokenId : (options.eosTokenId ?? undefined);
  const linear: LinearFn = adapterLinear(model, options.adapter, options.scale ?? 1);
  const rng = new Rng(options.seed ?? 0);
  const generated: number[] = [];
  let finishReason: GenerateIdsResult["finishReason"] = "length";
  let cache: KvCache | undefined;
  let next: number[] = ids;
  try {
    while (generated.length < maxNew) {
      if ((cache?.length ?? 0) + next.length > model.hparams.nPositions) {
        finishReason = "context";
        break;
      }
      const input = tf.tensor2d([next], [1, next.length], "int32");
      const { output, cache: nextCache } = model.step(input, linear, cache);
      input.dispose();
      disposeCache(cache);
      cache = nextCache;
      const last = tf.tidy(() => tf.slice(output, [0, next.length - 1, 0], [1, 1, vocab]));
      output.dispose();
      const row = (await last.data()) as Float32Array;
      last.dispose();
      const token = sampleToken(row, options, () => rng.next());
      generated.push(token);
      if (token === eos) {
        finishReason = "eos";
        break;
      }
      next = [token];
    }
  } finally {
    disposeCache(cache);
  }
  return { promptIds: [...promptIds], generatedIds: generated, finishReason };
}

/** {@link generateIds} on text: encodes the prompt, decodes prompt + completion. */
export async function generate(
  model: Gpt2,
  tokenizer: TextTokenizer,
  prompt: string,
  options: GenerateOptions = {},
): Promise<GenerateResult> {
  const promptIds = tokenizer.encode(prompt);
  const eosTokenId =
    options.eosTokenId === undefined ? (tokenizer.eosTokenId ?? model.hparams.eosTokenId ?? null) : options.eosTokenId;
  const result = await generateIds(model, promptIds, { ...options, eosTokenId });
  return {
    ...result,
    text: tokenizer.decode([...result.promptIds, ...result.generatedIds], { skipSpecialTokens: true }),
    completion: tokenizer.decode(result.generatedIds, { skipSpecialTokens: true }),
  };
}
