import * as tf from "@tensorflow/tfjs-core";
import { RuntimeError } from "../backend/errors.js";
import type { LinearFn, LinearModule, ServableBase } from "../engine/types.js";
import { disposeCache, Gpt2, type KvCache } from "../models/Gpt2.js";
import type { BatchKv } from "./BatchKv.js";

/** One sequence's cache: per layer keys and values [1, heads, length, headDim]. */
export type SequenceKv = KvCache;

/**
 * What KV-cached generation needs from a causal LM: a prefill that runs whole prompts once and a
 * decode that runs one new token per sequence over sequences of different lengths.
 */
export interface KvDecoder {
  readonly vocabSize: number;
  readonly maxPositions: number;
  readonly eosTokenId: number | undefined;
  /** Bytes of K and V one cached position takes (float32, every layer). */
  readonly kvBytesPerToken: number;
  /** Prompts (any lengths, right-padded together): logits of each prompt's last position [n, vocab], and each cache. */
  prefill(prompts: readonly (readonly number[])[], linear: LinearFn): { logits: tf.Tensor2D; caches: SequenceKv[] };
  /** One token per sequence after its cache: logits [n, vocab] and the new caches (old ones stay the caller's). */
  decode(
    tokens: readonly number[],
    caches: readonly SequenceKv[],
    linear: LinearFn,
  ): {
    logits: tf.Tensor2D;
    caches: SequenceKv[];
  };
  /** One token per row of a batch cache: logits [rows, vocab]; the batch cache grows by one column. */
  decodeBatch(tokens: readonly number[], batch: BatchKv, linear: LinearFn): tf.Tensor2D;
  /**
   * The matmul operand for a module: weights stored [out, in] (GPT-2's tied LM head) are transposed once
   * and kept, since a transposed right operand is several times slower on wasm (147 ms against 33 ms for
   * x[32, 256] times a [8192, 256] head, measured).
   */
  weight(name: string, mod: LinearModule): { weight: tf.Tensor2D; transposed: boolean };
  /** Frees what `weight` kept. */
  dispose(): void;
}

/** A KV decoder over `base` when it is a GPT-2 with an LM head; undefined for bases that cannot generate with a cache. */
export function kvDecoderFor(base: ServableBase): KvDecoder | undefined {
  return hasKvPath(base) ? new Gpt2KvDecoder(base) : undefined;
}

/** Whether `base` can generate with a KV cache (a GPT-2 with an LM head); others recompute each step. */
export function hasKvPath(base: ServableBase): base is Gpt2 {
  return base instanceof Gpt2 && base.hasLmHead;
}

export function disposeSequenceKv(kv: SequenceKv | undefined): void {
  disposeCache(kv);
}

class Gpt2KvDecoder implements KvDecoder {
  readonly vocabSize: number;
  readonly maxPositions: number;
  readonly eosTokenId: number | undefined;
  readonly kvBytesPerToken: number;
  private readonly transposed = new Map<string, tf.Tensor2D>();

  constructor(private readonly model: Gpt2) {
    const hp = model.hparams;
    this.vocabSize = hp.vocabSize;
    this.maxPositions = hp.nPositions;
    this.eosTokenId = hp.eosTokenId;
    this.kvBytesPerToken = 2 * hp.nLayer * hp.nEmbd * 4;
  }

  prefill(prompts: readonly (readonly number[])[], linear: LinearFn) {
    const n = prompts.length;
    const lengths = prompts.map((p) => p.length);
    const longest = Math.max(...lengths);
    if (n === 0 || Math.min(...lengths) < 1)
      throw new RuntimeError("InvalidArgument", "prefill: expected at least one non-empty prompt, found none");
    const flat = new Int32Array(n * longest); // right-padded with id 0: causal, so padding changes no real position
    prompts.forEach((p, i) => {
      flat.set(p, i * longest);
    });
    const ids = tf.tensor2d(flat, [n, longest], "int32");
    // Only each prompt's last position needs logits: gather those rows before the LM head, so the
    // vocabulary-sized matmul runs on n rows instead of n × longest.
    const last = tf.tensor1d(
      lengths.map((len, i) => i * longest + len - 1),
      "int32",
    );
    const headOnLast: LinearFn = (name, x) =>
      name === "lm_head"
        ? tf.tidy(() => {
            const d = x.shape[x.shape.length - 1] as number;
            return linear(name, tf.reshape(tf.gather(tf.reshape(x, [-1, d]), last), [n, 1, d]));
          })
        : linear(name, x);
    const { output, cache } = this.model.step(ids, headOnLast);
    tf.dispose([ids, last]);
    const L = this.model.hparams.nLayer;
    const kept = tf.tidy(() => {
      const parts: tf.Tensor[] = [tf.reshape(output, [n, this.vocabSize])];
      lengths.forEach((len, i) => {
        for (const t of [...cache.keys, ...cache.values]) {
          const [, h, , hd] = t.shape;
          parts.push(tf.slice(t, [i, 0, 0, 0], [1, h, len, hd]));
        }
      });
      return parts;
    });
    output.dispose();
    disposeCache(cache);
    const caches = lengths.map((len, i) => {
      const at = 1 + i * 2 * L;
      return {
        keys: kept.slice(at, at + L) as tf.Tensor4D[],
        values: kept.slice(at + L, at + 2 * L) as tf.Tensor4D[],
        length: len,
      };
    });
    return { logits: kept[0] as tf.Tensor2D, caches };
  }

  weight(name: string, mod: LinearModule): { weight: tf.Tensor2D; transposed: boolean } {
    if (mod.layout !== "out_in") return { weight: mod.weight, transposed: false };
    let t = this.transposed.get(name);
    if (!t) {
      t = tf.keep(tf.transpose(mod.weight));
      this.transposed.set(name, t);
    }
    return { weight: t, transposed: false };
  }

  dispose(): void {
    tf.dispose([...this.transposed.values()]);
    this.transposed.clear();
  }

  decodeBatch(tokens: readonly number[], batch: BatchKv, linear: LinearFn): tf.Tensor2D {
    const { output, keys, values } = this.model.decodeBatch(tokens, batch, batch.lengths, linear);
    batch.advance(keys, values);
    const logits = tf.tidy(() => tf.reshape(output, [tokens.length, this.vocabSize]) as tf.Tensor2D);
    output.dispose();
    return logits;
  }

  decode(tokens: readonly number[], caches: readonly SequenceKv[], linear: LinearFn) {
    const { output, caches: next } = this.model.decodeRows(tokens, caches, linear);
    const logits = tf.tidy(() => tf.reshape(output, [tokens.length, this.vocabSize]) as tf.Tensor2D);
    output.dispose();
    return { logits, caches: next };
  }
}
