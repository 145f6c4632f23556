import type { SamplerOptions } from "./sampler.js";

export type FinishReason = "length" | "eos" | "stop" | "context";

export interface GenerationRequest extends SamplerOptions {
  /** Base id; may be omitted when the engine holds one base. */
  base?: string;
  /** Adapter name or digest; `__base__` (default) for none. */
  adapter?: string;
  /** Multiplies the adapter's alpha/r (default 1). */
  scale?: number;
  promptIds: readonly number[];
  maxNewTokens: number;
  /** End-of-text token (default: the model's); null never stops early. */
  eosTokenId?: number | null;
  /**
   * Called with each generated token as soon as it is sampled (streaming). Returning `"stop"` ends the
   * sequence there (a stop sequence matched); the token is kept.
   */
  onToken?: (token: number, index: number) => "stop" | undefined;
  /**
   * Picks each next token from the row's logits instead of the built-in sampler (the options above are
   * then unused): `Engine.generate` passes its own seeded `sampleToken`, so its tokens do not depend on
   * which path ran.
   */
  pickToken?: (logits: Float32Array) => number;
  /** Aborting frees the request's slot and KV cache at the next step and rejects with `Cancelled`. */
  signal?: AbortSignal;
}

export interface GenerationResult {
  adapter: string;
  promptTokens: number;
  tokens: number[];
  finishReason: FinishReason;
}

export interface SchedulerOptions {
  /** Byte budget of all KV caches (default 256 MiB); a request reserves prompt + max_new_tokens positions. */
  kvBytes?: number;
  /** Most sequences decoding together (default 64). */
  maxRunning?: number;
  /** Most requests waiting for a slot; more are refused with `Overloaded` (default 256). */
  maxQueued?: number;
  /** Most prompts prefilled in one batch (default 8). */
  maxPrefill?: number;
}

export interface SchedulerStats {
  running: number;
  waiting: number;
  kvBytesReserved: number;
  steps: number;
  prefills: number;
  tokens: number;
  largestStep: number;
}
