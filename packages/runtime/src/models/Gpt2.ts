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
    const archs = Array.isArray(files.config.architectures) ? (files.config.architectures as unknown[]) : [];
    const lmHead =
      options.lmHead ??
      (archs.includes("GPT2LMHeadModel") ||
        (!archs.includes("GPT2Model") && files.weights.has("transformer.wte.weight")));
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
}

export function disposeCache(cache: KvCache | undefined): void {
  if (cache) tf.dispose([...cache.keys, ...cache.values]);
}
