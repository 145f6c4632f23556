import { resolveArchitecture } from "@lowrank/formats";
import * as tf from "@tensorflow/tfjs-core";
import { RuntimeError } from "../backend/errors.js";
import type { LinearFn } from "../engine/types.js";
import { Checkpoint, type HfFiles } from "./Checkpoint.js";
import { HfBase } from "./HfBase.js";
import {
  type Activation,
  activationByName,
  attention,
  causalMask,
  layerNorm,
  MASKED,
  mergeHeads,
  numberField,
  splitHeads,
} from "./ops.js";

export interface Gpt2Config {
  vocabSize: number;
  nEmbd: number;
  nHead: number;
  nLayer: number;
  nPositions: number;
  nInner: number;
  layerNormEpsilon: number;
  activation: string;
  scaleAttnWeights: boolean;
  scaleAttnByInverseLayerIdx: boolean;
  eosTokenId?: number;
  bosTokenId?: number;
}

export function parseGpt2Config(c: Readonly<Record<string, unknown>>): Gpt2Config {
  const nEmbd = numberField(c, "n_embd");
  const nHead = numberField(c, "n_head");
  if (nEmbd % nHead !== 0)
    throw new RuntimeError(
      "ModelLoadFailed",
      `config.json: expected n_embd divisible by n_head, found ${nEmbd} and ${nHead}`,
    );
  const activation = typeof c.activation_function === "string" ? c.activation_function : "gelu_new";
  if (!activationByName(activation))
    throw new RuntimeError(
      "ModelLoadFailed",
      `config.json: expected a supported activation_function (gelu_new, gelu, relu, ...), found '${activation}'`,
    );
  const eos = c.eos_token_id;
  const bos = c.bos_token_id;
  return {
    vocabSize: numberField(c, "vocab_size"),
    nEmbd,
    nHead,
    nLayer: numberField(c, "n_layer"),
    nPositions: numberField(c, "n_positions", 1024),
    nInner: numberField(c, "n_inner", 4 * nEmbd),
    layerNormEpsilon: numberField(c, "layer_norm_epsilon", 1e-5),
    activation,
    scaleAttnWeights: c.scale_attn_weights !== false,
    scaleAttnByInverseLayerIdx: c.scale_attn_by_inverse_layer_idx === true,
    ...(typeof eos === "number" ? { eosTokenId: eos } : {}),
    ...(typeof bos === "number" ? { bosTokenId: bos } : {}),
  };
}

/** Keys and values of the positions seen so far, per layer: [batch, heads, past, headDim]. */
export interface KvCache {
  keys: tf.Tensor4D[];
  values: tf.Tensor4D[];
  length: number;
}

/**
 * GPT-2 (`GPT2Model`, or `GPT2LMHeadModel` with `lm_head` tied to `wte`) with Hugging Face module
 * names: `h.0.attn.c_attn` in a `GPT2Model`, `transformer.h.0.attn.c_attn` in a `GPT2LMHeadModel`.
 * Conv1D weights are held as stored, [in, out]. Causal attention, GELU (tanh, `gelu_new`), learned positions.
 */
export class Gpt2 extends HfBase {
  readonly kind: "causal-lm" | "encoder";
  /** Causal attention and absolute positions from 0: right padding leaves earlier positions unchanged. */
  readonly causalPadding = { padId: 0 };
  readonly hparams: Gpt2Config;
  readonly hasLmHead: boolean;
  /** `transformer.` in a `GPT2LMHeadModel`, empty in a `GPT2Model`. */
  readonly prefix: string;
  private readonly act: Activation;
  private readonly p: ReadonlyMap<string, tf.Variable>;

  constructor(files: HfFiles, options: { lmHead?: boolean } = {}) {
    const hp = parseGpt2Config(files.config);
    // One rule with @lowrank/formats' manifests: `architectures`, else the checkpoint's tensor names.
    const lmHead = options.lmHead ?? resolveArchitecture(files.config, (n) => files.weights.has(n)).lmHead;
    const prefix = lmHead ? "transformer." : "";
    const ck = new Checkpoint(files.weights, "transformer.");
    const params = new Map<string, tf.Variable>();
    const d = hp.nEmbd;
    const load = (name: string, shape: number[]) => {
      const v = ck.variable(prefix + name, shape);
      params.set(prefix + name, v);
      return v;
    };
    try {
      load("wte.weight", [hp.vocabSize, d]);
      load("wpe.weight", [hp.nPositions, d]);
      for (let i = 0; i < hp.nLayer; i++) {
        for (const ln of ["ln_1", "ln_2"]) {
          load(`h.${i}.${ln}.weight`, [d]);
          load(`h.${i}.${ln}.bias`, [d]);
        }
        for (const [m, fin, fout] of [
          ["attn.c_attn", d, 3 * d],
          ["attn.c_proj", d, d],
          ["mlp.c_fc", d, hp.nInner],
          ["mlp.c_proj", hp.nInner, d],
        ] as const) {
          load(`h.${i}.${m}.weight`, [fin, fout]);
          load(`h.${i}.${m}.bias`, [fout]);
        }
      }
      load("ln_f.weight", [d]);
      load("ln_f.bias", [d]);
    } catch (error) {
      for (const v of params.values()) v.dispose();
      throw error;
    }
    super(lmHead ? "GPT2LMHeadModel" : "GPT2Model", "gpt2", files.config, params);
    this.kind = lmHead ? ("causal-lm" as const) : ("encoder" as const);
    this.hparams = hp;
    this.hasLmHead = lmHead;
    this.prefix = prefix;
    this.act = activationByName(hp.activation) as Activation;
    this.p = params;
    for (let i = 0; i < hp.nLayer; i++) {
      for (const [m, fin, fout] of [
        ["attn.c_attn", d, 3 * d],
        ["attn.c_proj", d, d],
        ["mlp.c_fc", d, hp.nInner],
        ["mlp.c_proj", hp.nInner, d],
      ] as const) {
        const name = `${prefix}h.${i}.${m}`;
        this.addLinear({
          name,
          layout: "conv1d",
          inFeatures: fin,
          outFeatures: fout,
          weight: this.w(`${name}.weight`),
          bias: this.w(`${name}.bias`),
        });
      }
    }
    this.addEmbedding(`${prefix}wte`, this.w(`${prefix}wte.weight`));
    this.addEmbedding(`${prefix}wpe`, this.w(`${prefix}wpe.weight`));
    if (lmHead) {
      this.addLinear({
        name: "lm_head",
        layout: "linear",
        inFeatures: d,
        outFeatures: hp.vocabSize,
        weight: this.w(`${prefix}wte.weight`),
        tiedTo: `${prefix}wte`,
      });
    }
  }

  private w(name: string): tf.Variable {
    const v = this.p.get(name);
    if (!v) throw new RuntimeError("ModelLoadFailed", `GPT-2: expected parameter '${name}', found none`);
    return v;
  }

  protected maxPositions(): number {
    return this.hparams.nPositions;
  }

  get vocabSize(): number {
    return this.hparams.vocabSize;
  }

  /** ids int32 [batch, seq] -> logits [batch, seq, vocab] (with the LM head) or the last hidden state [batch, seq, n_embd]. */
  forward(ids: tf.Tensor, linear: LinearFn = this.linear): tf.Tensor {
    return tf.tidy(() => {
      const { output, cache } = this.forwardWithCache(ids, linear);
      tf.dispose([...cache.keys, ...cache.values]);
      return output;
    });
  }

  /**
   * {@link forwardWithCache} in its own `tf.tidy`: returns the output for the new positions and the new
   * cache, both owned by the caller (dispose the old cache with {@link disposeCache}).
   */
  step(ids: tf.Tensor, linear: LinearFn = this.linear, past?: KvCache): { output: tf.Tensor; cache: KvCache } {
    let length = 0;
    const kept = tf.tidy(() => {
      const { output, cache } = this.forwardWithCache(ids, linear, past);
      length = cache.length;
      return [output, ...cache.keys, ...cache.values];
    });
    const n = this.hparams.nLayer;
    return {
      output: kept[0] as tf.Tensor,
      cache: { keys: kept.slice(1, 1 + n) as tf.Tensor4D[], values: kept.slice(1 + n) as tf.Tensor4D[], length },
    };
  }

  /**
   * One step of incremental decoding: `ids` [batch, t] are the new positions after `past` (if any).
   * Returns the output for the new positions and a new cache holding past and new keys/values; the
   * caller owns both and disposes the old cache. Call inside `tf.tidy` and keep what it returns.
   */
  forwardWithCache(
    ids: tf.Tensor,
    linear: LinearFn = this.linear,
    past?: KvCache,
  ): { output: tf.Tensor; cache: KvCache } {
    const hp = this.hparams;
    const p = this.prefix;
    const [b, t] = ids.shape as [number, number];
    const start = past?.length ?? 0;
    if (ids.rank !== 2)
      throw new RuntimeError(
        "InvalidArgument",
        `GPT-2 forward: expected input_ids [batch, seq], found shape [${ids.shape}]`,
      );
    if (start + t > hp.nPositions)
      throw new RuntimeError(
        "InvalidArgument",
        `GPT-2 forward: expected at most n_positions=${hp.nPositions} tokens, found ${start + t}`,
      );
    const keys: tf.Tensor4D[] = [];
    const values: tf.Tensor4D[] = [];
    const tok = tf.reshape(tf.gather(this.w(`${p}wte.weight`), tf.reshape(tf.cast(ids, "int32"), [-1])), [
      b,
      t,
      hp.nEmbd,
    ]);
    const pos = tf.gather(this.w(`${p}wpe.weight`), tf.range(start, start + t, 1, "int32"));
    let h: tf.Tensor = tf.add(tok, pos);
    const mask = causalMask(t, start);
    const hd = hp.nEmbd / hp.nHead;
    for (let i = 0; i < hp.nLayer; i++) {
      const q = `${p}h.${i}.`;
      const a = layerNorm(h, this.w(`${q}ln_1.weight`), this.w(`${q}ln_1.bias`), hp.layerNormEpsilon);
      const [qq, kk, vv] = tf.split(linear(`${q}attn.c_attn`, a), 3, -1) as [tf.Tensor, tf.Tensor, tf.Tensor];
      let k = splitHeads(kk, hp.nHead);
      let v = splitHeads(vv, hp.nHead);
      const pk = past?.keys[i];
      const pv = past?.values[i];
      if (pk && pv) {
        k = tf.concat([pk, k], 2);
        v = tf.concat([pv, v], 2);
      }
      keys.push(k);
      values.push(v);
      let scale = hp.scaleAttnWeights ? 1 / Math.sqrt(hd) : 1;
      if (hp.scaleAttnByInverseLayerIdx) scale /= i + 1;
      const o = mergeHeads(attention(splitHeads(qq, hp.nHead), k, v, scale, mask));
      h = tf.add(h, linear(`${q}attn.c_proj`, o));
      const m = layerNorm(h, this.w(`${q}ln_2.weight`), this.w(`${q}ln_2.bias`), hp.layerNormEpsilon);
      h = tf.add(h, linear(`${q}mlp.c_proj`, this.act(linear(`${q}mlp.c_fc`, m))));
    }
    h = layerNorm(h, this.w(`${p}ln_f.weight`), this.w(`${p}ln_f.bias`), hp.layerNormEpsilon);
    const output = this.hasLmHead ? linear("lm_head", h) : h;
    return { output, cache: { keys, values, length: start + t } };
  }

  /**
   * KV-cached decode of one new token for each of several sequences of different lengths (continuous
   * batching): `tokens[i]` follows the positions in `caches[i]` (each [1, heads, len_i, headDim] per
   * layer). Linear modules run once over all rows (`linear` may add each row's own adapter); attention
   * runs over each row's own keys, right-padded to the longest and masked. Returns logits (or hidden
   * states) [rows, 1, out] and each row's new cache; the caller owns them and disposes the old caches.
   */
  decodeRows(
    tokens: readonly number[],
    caches: readonly KvCache[],
    linear: LinearFn = this.linear,
  ): {
    output: tf.Tensor;
    caches: KvCache[];
  } {
    const hp = this.hparams;
    const n = tokens.length;
    if (n === 0 || caches.length !== n)
      throw new RuntimeError(
        "InvalidArgument",
        `GPT-2 decodeRows: expected one cache per token (at least one), found ${n} tokens and ${caches.length} caches`,
      );
    const lengths = caches.map((c) => c.length);
    const longest = Math.max(...lengths) + 1;
    if (longest > hp.nPositions)
      throw new RuntimeError(
        "InvalidArgument",
        `GPT-2 forward: expected at most n_positions=${hp.nPositions} tokens, found ${longest}`,
      );
    const L = hp.nLayer;
    const kept = tf.tidy(() => {
      const p = this.prefix;
      const ids = tf.tensor1d(Int32Array.from(tokens), "int32");
      const tok = tf.gather(this.w(`${p}wte.weight`), ids);
      const pos = tf.gather(this.w(`${p}wpe.weight`), tf.tensor1d(Int32Array.from(lengths), "int32"));
      let h: tf.Tensor = tf.reshape(tf.add(tok, pos), [n, 1, hp.nEmbd]);
      // Row i attends to its len_i cached positions and itself; padded key slots get MASKED.
      const maskData = new Float32Array(n * longest);
      lengths.forEach((len, i) => {
        maskData.fill(MASKED, i * longest + len + 1, (i + 1) * longest);
      });
      const ragged = lengths.some((len) => len + 1 !== longest);
      const mask = ragged ? tf.tensor4d(maskData, [n, 1, 1, longest]) : undefined;
      const hd = hp.nEmbd / hp.nHead;
      const newKeys: tf.Tensor4D[][] = caches.map(() => []);
      const newValues: tf.Tensor4D[][] = caches.map(() => []);
      for (let l = 0; l < L; l++) {
        const q = `${p}h.${l}.`;
        const a = layerNorm(h, this.w(`${q}ln_1.weight`), this.w(`${q}ln_1.bias`), hp.layerNormEpsilon);
        const [qq, kk, vv] = tf.split(linear(`${q}attn.c_attn`, a), 3, -1) as [tf.Tensor, tf.Tensor, tf.Tensor];
        const k = tf.split(splitHeads(kk, hp.nHead), n, 0) as tf.Tensor4D[];
        const v = tf.split(splitHeads(vv, hp.nHead), n, 0) as tf.Tensor4D[];
        const padTo = (t: tf.Tensor4D) => {
          const extra = longest - (t.shape[2] as number);
          return extra
            ? tf.pad(t, [
                [0, 0],
                [0, 0],
                [0, extra],
                [0, 0],
              ])
            : t;
        };
        const ks: tf.Tensor4D[] = [];
        const vs: tf.Tensor4D[] = [];
        for (let i = 0; i < n; i++) {
          const c = caches[i] as KvCache;
          const ki = c.length ? tf.concat([c.keys[l] as tf.Tensor4D, k[i] as tf.Tensor4D], 2) : (k[i] as tf.Tensor4D);
          const vi = c.length ? tf.concat([c.values[l] as tf.Tensor4D, v[i] as tf.Tensor4D], 2) : (v[i] as tf.Tensor4D);
          newKeys[i]?.push(ki);
          newValues[i]?.push(vi);
          ks.push(padTo(ki));
          vs.push(padTo(vi));
        }
        let scale = hp.scaleAttnWeights ? 1 / Math.sqrt(hd) : 1;
        if (hp.scaleAttnByInverseLayerIdx) scale /= l + 1;
        const kAll = n === 1 ? (ks[0] as tf.Tensor4D) : (tf.concat(ks, 0) as tf.Tensor4D);
        const vAll = n === 1 ? (vs[0] as tf.Tensor4D) : (tf.concat(vs, 0) as tf.Tensor4D);
        const o = mergeHeads(attention(splitHeads(qq, hp.nHead), kAll, vAll, scale, mask));
        h = tf.add(h, linear(`${q}attn.c_proj`, o));
        const m = layerNorm(h, this.w(`${q}ln_2.weight`), this.w(`${q}ln_2.bias`), hp.layerNormEpsilon);
        h = tf.add(h, linear(`${q}mlp.c_proj`, this.act(linear(`${q}mlp.c_fc`, m))));
      }
      h = layerNorm(h, this.w(`${p}ln_f.weight`), this.w(`${p}ln_f.bias`), hp.layerNormEpsilon);
      const output = this.hasLmHead ? linear("lm_head", h) : h;
      return [output, ...newKeys.flatMap((ks, i) => [...ks, ...(newValues[i] as tf.Tensor4D[])])];
    });
    const out: KvCache[] = [];
    for (let i = 0; i < n; i++) {
      const at = 1 + i * 2 * L;
      out.push({
        keys: kept.slice(at, at + L) as tf.Tensor4D[],
        values: kept.slice(at + L, at + 2 * L) as tf.Tensor4D[],
        length: (lengths[i] as number) + 1,
      });
    }
    return { output: kept[0] as tf.Tensor, caches: out };
  }

  /**
   * KV-cached decode of one token per row over a batch cache (continuous batching): per layer keys and
   * values [rows, heads, T, headDim] where row i's `lengths[i]` positions sit in the last columns and
   * the columns before them are padding (masked). Attention ignores key order (positions live in the
   * embeddings), so left padding leaves each row's result as its own. Returns logits (or hidden states)
   * [rows, 1, out] and the new caches [rows, heads, T + 1, headDim], owned by the caller.
   */
  decodeBatch(
    tokens: readonly number[],
    cache: { keys: readonly tf.Tensor4D[]; values: readonly tf.Tensor4D[] },
    lengths: readonly number[],
    linear: LinearFn = this.linear,
  ): { output: tf.Tensor; keys: tf.Tensor4D[]; values: tf.Tensor4D[] } {
    const hp = this.hparams;
    const n = tokens.length;
    const T = (cache.keys[0]?.shape[2] as number | undefined) ?? 0;
    if (n === 0 || lengths.length !== n || cache.keys.length !== hp.nLayer || Math.max(...lengths) > T)
      throw new RuntimeError(
        "InvalidArgument",
        `GPT-2 decodeBatch: expected ${hp.nLayer} layers of caches for ${n} rows holding their lengths, found ${cache.keys.length} layers of ${T} columns for lengths [${lengths}]`,
      );
    if (Math.max(...lengths) + 1 > hp.nPositions)
      throw new RuntimeError(
        "InvalidArgument",
        `GPT-2 forward: expected at most n_positions=${hp.nPositions} tokens, found ${Math.max(...lengths) + 1}`,
      );
    const kept = tf.tidy(() => {
      const p = this.prefix;
      const tok = tf.gather(this.w(`${p}wte.weight`), tf.tensor1d(Int32Array.from(tokens), "int32"));
      const pos = tf.gather(this.w(`${p}wpe.weight`), tf.tensor1d(Int32Array.from(lengths), "int32"));
      let h: tf.Tensor = tf.reshape(tf.add(tok, pos), [n, 1, hp.nEmbd]);
      const maskData = new Float32Array(n * (T + 1));
      lengths.forEach((len, i) => {
        maskData.fill(MASKED, i * (T + 1), i * (T + 1) + T - len);
      });
      const mask = lengths.some((len) => len !== T) ? tf.tensor3d(maskData, [n, 1, T + 1]) : undefined;
      const hd = hp.nEmbd / hp.nHead;
      const keys: tf.Tensor4D[] = [];
      const values: tf.Tensor4D[] = [];
      for (let l = 0; l < hp.nLayer; l++) {
        const q = `${p}h.${l}.`;
        const a = layerNorm(h, this.w(`${q}ln_1.weight`), this.w(`${q}ln_1.bias`), hp.layerNormEpsilon);
        const [qq, kk, vv] = tf.split(linear(`${q}attn.c_attn`, a), 3, -1) as [tf.Tensor, tf.Tensor, tf.Tensor];
        const k = tf.concat([cache.keys[l] as tf.Tensor4D, splitHeads(kk, hp.nHead)], 2) as tf.Tensor4D;
        const v = tf.concat([cache.values[l] as tf.Tensor4D, splitHeads(vv, hp.nHead)], 2) as tf.Tensor4D;
        keys.push(k);
        values.push(v);
        let scale = hp.scaleAttnWeights ? 1 / Math.sqrt(hd) : 1;
        if (hp.scaleAttnByInverseLayerIdx) scale /= l + 1;
        // One query per row: broadcast products and sums instead of batched matmuls over rows × heads
        // tiny matrices (each a separate kernel call on wasm).
        let scores: tf.Tensor = tf.mul(tf.sum(tf.mul(splitHeads(qq, hp.nHead), k), -1), scale); // [n, heads, T+1]
        if (mask) scores = tf.add(scores, mask);
        const o = tf.sum(tf.mul(tf.expandDims(tf.softmax(scores), -1), v), 2); // [n, heads, headDim]
        h = tf.add(h, linear(`${q}attn.c_proj`, tf.reshape(o, [n, 1, hp.nEmbd])));
        const m = layerNorm(h, this.w(`${q}ln_2.weight`), this.w(`${q}ln_2.bias`), hp.layerNormEpsilon);
        h = tf.add(h, linear(`${q}mlp.c_proj`, this.act(linear(`${q}mlp.c_fc`, m))));
      }
      h = layerNorm(h, this.w(`${p}ln_f.weight`), this.w(`${p}ln_f.bias`), hp.layerNormEpsilon);
      const output = this.hasLmHead ? linear("lm_head", h) : h;
      return [output, ...keys, ...values];
    });
    const L = hp.nLayer;
    return {
      output: kept[0] as tf.Tensor,
      keys: kept.slice(1, 1 + L) as tf.Tensor4D[],
      values: kept.slice(1 + L) as tf.Tensor4D[],
    };
  }
}

export function disposeCache(cache: KvCache | undefined): void {
  if (cache) tf.dispose([...cache.keys, ...cache.values]);
}
