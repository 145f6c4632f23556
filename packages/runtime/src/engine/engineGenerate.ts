import { Rng } from "@lowrank/core";
import { RuntimeError } from "../backend/errors.js";
import type { GenerationScheduler } from "../generation/GenerationScheduler.js";
import { hasKvPath } from "../generation/KvDecoder.js";
import { type SamplingOptions, sampleToken, validateSampling } from "../models/sampleToken.js";
import { checkForwardInput } from "./checkForwardInput.js";
import type { ForwardRequest, ForwardResult, ServableBase } from "./types.js";

export interface GenerateRequest extends Omit<ForwardRequest, "input" | "shape">, SamplingOptions {
  inputIds: number[];
  maxNewTokens: number;
  eosTokenId?: number;
  /** Seed of the sampler when `temperature` > 0 (default 0): same seed, same tokens. */
  seed?: number;
  /**
   * Recompute the whole sequence at every step even where the KV-cached path can run (it gives the same
   * tokens; kept as the reference the KV path is checked and benchmarked against).
   */
  recompute?: boolean;
}

export interface EngineGenerateResult {
  tokens: number[];
  generated: number[];
  finishReason: "stop" | "length";
}

/** What generation needs from the engine. */
export interface GenerateHost {
  forward(req: ForwardRequest): Promise<ForwardResult>;
  readonly generation: GenerationScheduler;
}

/**
 * Greedy or sampled generation on a causal-LM base. GPT-2 with an LM head runs KV-cached on the engine's
 * generation scheduler (prefill once, then one token per step, continuously batched with every other
 * generation); other causal LMs, which have no KV path, recompute the whole sequence each step as a forward
 * request that batches with other requests; so does a GPT-2 request whose KV cache (prompt + `maxNewTokens`
 * positions) is larger than the scheduler's whole `kvBytes` budget. A full generation queue is refused
 * with `Overloaded` (back-pressure; retry later). Both pick tokens the same way (`sampleToken` with a generator
 * seeded by `seed`), so they give the same tokens. Stops at `eosTokenId` (`finishReason: "stop"`), after
 * `maxNewTokens`, or at the base's context limit, both `finishReason: "length"`.
 */
export async function generateOn(
  host: GenerateHost,
  base: ServableBase,
  req: GenerateRequest,
): Promise<EngineGenerateResult> {
  if (base.kind !== "causal-lm")
    throw new RuntimeError("InvalidArgument", `generate: expected a causal-lm base, found '${base.kind}' (${base.id})`);
  validateSampling(req);
  checkForwardInput(base, req.inputIds); // the prompt is checked even when no step runs
  if (!(Number.isInteger(req.maxNewTokens) && req.maxNewTokens >= 0))
    throw new RuntimeError("InvalidArgument", `maxNewTokens: expected an integer >= 0, found ${req.maxNewTokens}`);
  if (req.maxNewTokens === 0) return { tokens: [...req.inputIds], generated: [], finishReason: "length" };
  const rng = new Rng(req.seed ?? 0);
  const pick = (logits: ArrayLike<number>) => sampleToken(logits, req, () => rng.next());
  // A request whose KV reservation alone exceeds the scheduler's whole budget could never be admitted:
  // it recomputes, as every generation did before the KV path, instead of being refused.
  if (
    !req.recompute &&
    hasKvPath(base) &&
    (await host.generation.fitsKvBudget(req.base, req.inputIds.length, req.maxNewTokens))
  )
    return withKv(host.generation, req, pick);
  return byRecompute(host, base, req, pick);
}

async function withKv(
  scheduler: GenerationScheduler,
  req: GenerateRequest,
  pick: (logits: ArrayLike<number>) => number,
): Promise<EngineGenerateResult> {
  const r = await scheduler.generate({
    base: req.base,
    adapter: req.adapter,
    scale: req.scale,
    signal: req.signal,
    promptIds: req.inputIds,
    maxNewTokens: req.maxNewTokens,
    eosTokenId: req.eosTokenId ?? null,
    pickToken: pick,
  });
  return {
    tokens: [...req.inputIds, ...r.tokens],
    generated: r.tokens,
    finishReason: r.finishReason === "eos" ? "stop" : "length",
  };
}

async function byRecompute(
  host: GenerateHost,
  base: ServableBase,
  req: GenerateRequest,
  pick: (logits: ArrayLike<number>) => number,
): Promise<EngineGenerateResult> {
  const tokens = [...req.inputIds];
  const generated: number[] = [];
  // Each step is one forward request, so steps of concurrent generations (any adapter, any length within
  // a bucket) share batches; each step re-reads the whole sequence.
  for (let step = 0; step < req.maxNewTokens; step++) {
    // The prompt was checked above; a longer sequence the base refuses is its context limit.
    if (step > 0 && base.checkInput?.([tokens.length]) !== undefined) break;
    const { data, shape } = await host.forward({ ...req, input: tokens, shape: [tokens.length] });
    const vocab = shape[shape.length - 1] as number;
    const next = pick(data.subarray(data.length - vocab));
    tokens.push(next);
    generated.push(next);
    if (next === req.eosTokenId) return { tokens, generated, finishReason: "stop" };
  }
  return { tokens, generated, finishReason: "length" };
}
