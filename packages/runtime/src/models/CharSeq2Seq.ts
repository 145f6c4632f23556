import { type BaseManifest, manifestFromHeader, type SafetensorsFile } from "@lowrank/formats";
import * as tf from "@tensorflow/tfjs-core";
import { RuntimeError } from "../backend/errors.js";
import type { LinearFn } from "../engine/types.js";
import { Checkpoint, hfFilesFromBytes } from "./Checkpoint.js";
import { type CharSeq2SeqConfig, parseCharSeq2SeqConfig } from "./charSeq2SeqConfig.js";
import { HfBase } from "./HfBase.js";
import { layerNorm, MASKED } from "./ops.js";
import { argmax } from "./sampleToken.js";

const ATTN = ["q_proj", "k_proj", "v_proj", "out_proj"] as const;

/**
 * A character-level encoder-decoder transformer (single-head attention, post-norm residual blocks,
 * learned positions, one character embedding shared by both sides), as the translation recipe of
 * `examples/` trains it to transliterate words between scripts. Files: `config.json` (sizes and the
 * character vocabulary) and `model.safetensors` in tfjs-layers names: linear modules
 * `<module>.kernel` [in, out] + `.bias` (`encoder.layers.0.self_attn.q_proj`, `decoder.layers.0.fc1`,
 * `lm_head`...), `embed_tokens.embeddings`, `embed_positions_src.embeddings`,
 * `embed_positions_tgt.embeddings`, layer norms `.gamma`/`.beta`.
 *
 * Input rows are int32 `[source ids (srcLen, PAD-padded) | BOS + target so far (tgtLen, PAD-padded)]`;
 * output logits [batch, tgtLen, vocab]. `transliterate` decodes greedily.
 */
export class CharSeq2Seq extends HfBase {
  readonly kind = "other" as const;
  readonly hparams: CharSeq2SeqConfig;
  private readonly charIds: Map<string, number>;
  private cached?: BaseManifest;

  constructor(config: Readonly<Record<string, unknown>>, weights: SafetensorsFile) {
    const hp = parseCharSeq2SeqConfig(config);
    const { dModel: d, ffnDim: f, srcLen, tgtLen, vocab } = hp;
    const ck = new Checkpoint(weights, "");
    const params = new Map<string, tf.Variable>();
    const linears: Array<[string, number, number]> = [];
    const load = (name: string, shape: number[]) => params.set(name, ck.variable(name, shape));
    const linear = (name: string, fin: number, fout: number) => {
      load(`${name}.kernel`, [fin, fout]);
      load(`${name}.bias`, [fout]);
      linears.push([name, fin, fout]);
    };
    const norm = (name: string) => {
      load(`${name}.gamma`, [d]);
      load(`${name}.beta`, [d]);
    };
    try {
      load("embed_tokens.embeddings", [vocab.length, d]);
      load("embed_positions_src.embeddings", [srcLen, d]);
      load("embed_positions_tgt.embeddings", [tgtLen, d]);
      for (const [side, n] of [
        ["encoder", hp.encoderLayers],
        ["decoder", hp.decoderLayers],
      ] as const) {
        for (let i = 0; i < n; i++) {
          const p = `${side}.layers.${i}`;
          for (const b of side === "encoder" ? ["self_attn"] : ["self_attn", "encoder_attn"]) {
            for (const proj of ATTN) linear(`${p}.${b}.${proj}`, d, d);
            norm(`${p}.${b}_layer_norm`);
          }
          linear(`${p}.fc1`, d, f);
          linear(`${p}.fc2`, f, d);
          norm(`${p}.final_layer_norm`);
        }
      }
      linear("lm_head", d, vocab.length);
    } catch (error) {
      for (const v of params.values()) v.dispose();
      throw error;
    }
    super("CharSeq2Seq", "char_seq2seq", config, params);
    this.hparams = hp;
    this.charIds = new Map(vocab.map((c, i) => [c, i]));
    for (const [name, fin, fout] of linears) {
      const weight = params.get(`${name}.kernel`) as tf.Variable;
      const bias = params.get(`${name}.bias`) as tf.Variable;
      this.addLinear({ name, layout: "conv1d", inFeatures: fin, outFeatures: fout, weight, bias });
    }
  }

  static fromBytes(config: string | Uint8Array | Record<string, unknown>, weights: Uint8Array): CharSeq2Seq {
    const files = hfFilesFromBytes(config, weights);
    return new CharSeq2Seq(files.config, files.weights);
  }

  get vocabSize(): number {
    return this.hparams.vocab.length;
  }

  /**
   * The base manifest: @lowrank/formats' `manifestFromHeader` over the kernels this model loaded (one
   * module per `<module>.kernel` [in, out]), so it equals the manifest the hub computes from the
   * safetensors header of `model.safetensors`.
   */
  override manifest(): BaseManifest {
    if (this.cached) return this.cached;
    const shapes = new Map<string, { shape: number[] }>();
    for (const [name, m] of this.linearModules) shapes.set(`${name}.kernel`, { shape: [m.inFeatures, m.outFeatures] });
    this.cached = manifestFromHeader(this.config, shapes);
    return this.cached;
  }

  protected maxPositions(): number {
    return this.hparams.srcLen + this.hparams.tgtLen;
  }

  override checkInput(shape: readonly number[]): string | undefined {
    const { srcLen, tgtLen } = this.hparams;
    return shape.length === 1 && shape[0] === srcLen + tgtLen
      ? undefined
      : `input: expected [${srcLen + tgtLen}] ids (source ${srcLen} + target ${tgtLen}), found shape [${shape}]`;
  }

  private table(name: string): tf.Variable {
    return this.parameters.get(name) as tf.Variable;
  }

  private norm(name: string, x: tf.Tensor): tf.Tensor {
    return layerNorm(x, this.table(`${name}.gamma`), this.table(`${name}.beta`), this.hparams.eps);
  }

  /** Single-head attention; `mask` is additive (0 allowed, MASKED not), broadcast to [n, Lq, Lk]. */
  private attend(p: string, q: tf.Tensor, kv: tf.Tensor, mask: tf.Tensor, linear: LinearFn): tf.Tensor {
    const scores = tf.mul(
      tf.matMul(linear(`${p}.q_proj`, q), linear(`${p}.k_proj`, kv), false, true),
      1 / Math.sqrt(this.hparams.dModel),
    );
    return linear(`${p}.out_proj`, tf.matMul(tf.softmax(tf.add(scores, mask)), linear(`${p}.v_proj`, kv)));
  }

  forward(x: tf.Tensor, linear: LinearFn = this.linear): tf.Tensor {
    const { srcLen, tgtLen, padId } = this.hparams;
    return tf.tidy(() => {
      const ids = tf.cast(x, "int32");
      const n = ids.shape[0] as number;
      const src = tf.slice(ids, [0, 0], [n, srcLen]);
      const tgt = tf.slice(ids, [0, srcLen], [n, tgtLen]);
      const embed = tf.gather(this.table("embed_tokens.embeddings"), tf.reshape(src, [-1]));
      let h = tf.add(tf.reshape(embed, [n, srcLen, -1]), this.table("embed_positions_src.embeddings"));
      const srcMask = tf.expandDims(tf.where(tf.equal(src, padId), MASKED, 0), 1); // [n, 1, Ls]
      for (let i = 0; i < this.hparams.encoderLayers; i++) {
        const p = `encoder.layers.${i}`;
        h = this.norm(`${p}.self_attn_layer_norm`, tf.add(h, this.attend(`${p}.self_attn`, h, h, srcMask, linear)));
        h = this.norm(`${p}.final_layer_norm`, tf.add(h, this.ffn(p, h, linear)));
      }
      const causal = tf.tensor2d(
        Float32Array.from({ length: tgtLen * tgtLen }, (_, k) => (k % tgtLen > Math.floor(k / tgtLen) ? MASKED : 0)),
        [tgtLen, tgtLen],
      );
      const tgtEmbed = tf.gather(this.table("embed_tokens.embeddings"), tf.reshape(tgt, [-1]));
      let y = tf.add(tf.reshape(tgtEmbed, [n, tgtLen, -1]), this.table("embed_positions_tgt.embeddings"));
      for (let i = 0; i < this.hparams.decoderLayers; i++) {
        const p = `decoder.layers.${i}`;
        y = this.norm(`${p}.self_attn_layer_norm`, tf.add(y, this.attend(`${p}.self_attn`, y, y, causal, linear)));
        y = this.norm(
          `${p}.encoder_attn_layer_norm`,
          tf.add(y, this.attend(`${p}.encoder_attn`, y, h, srcMask, linear)),
        );
        y = this.norm(`${p}.final_layer_norm`, tf.add(y, this.ffn(p, y, linear)));
      }
      return linear("lm_head", y);
    });
  }

  private ffn(p: string, x: tf.Tensor, linear: LinearFn): tf.Tensor {
    return linear(`${p}.fc2`, tf.relu(linear(`${p}.fc1`, x)));
  }

  /** Source ids of a word (PAD-padded to srcLen); unknown characters or a word too long are `InvalidArgument`. */
  encodeWord(word: string): Int32Array {
    const chars = [...word];
    const { srcLen, padId } = this.hparams;
    if (chars.length === 0 || chars.length > srcLen)
      throw new RuntimeError("InvalidArgument", `word: expected 1 to ${srcLen} characters, found ${chars.length}`);
    const unknown = [...new Set(chars.filter((c) => !this.charIds.has(c)))];
    if (unknown.length)
      throw new RuntimeError(
        "InvalidArgument",
        `word: expected characters of the model's vocabulary, found ${unknown.map((c) => JSON.stringify(c)).join(", ")}`,
      );
    const row = new Int32Array(srcLen).fill(padId);
    chars.forEach((c, i) => {
      row[i] = this.charIds.get(c) as number;
    });
    return row;
  }

  /**
   * Greedy decoding as a coroutine: yields the model input row for each step and takes back that row's
   * logits [tgtLen * vocab]; returns the output text (special tokens dropped) at EOS or tgtLen.
   */
  *decodeSteps(word: string): Generator<Int32Array, string, ArrayLike<number>> {
    const { srcLen, tgtLen, bosId, eosId, padId, vocab } = this.hparams;
    const row = new Int32Array(srcLen + tgtLen).fill(padId);
    row.set(this.encodeWord(word));
    row[srcLen] = bosId;
    let text = "";
    const v = vocab.length;
    for (let t = 0; t < tgtLen; t++) {
      const logits = yield Int32Array.from(row);
      const id = argmax(Array.prototype.slice.call(logits, t * v, (t + 1) * v) as number[]);
      if (id === eosId) break;
      if (id !== padId && id !== bosId) text += vocab[id];
      if (t + 1 < tgtLen) row[srcLen + 1 + t] = id;
    }
    return text;
  }

  /** Greedy transliteration of one word through `linear` (the base's own, or with an adapter). */
  transliterate(word: string, linear: LinearFn = this.linear): string {
    const steps = this.decodeSteps(word);
    let r = steps.next();
    while (!r.done) {
      const row = r.value;
      const logits = tf.tidy(() => this.forward(tf.tensor2d(row, [1, row.length], "int32"), linear).dataSync());
      r = steps.next(logits);
    }
    return r.value;
  }

  /** {@link transliterate} with each step's logits from `step` (the engine, a server...). */
  async transliterateWith(word: string, step: (row: Int32Array) => Promise<ArrayLike<number>>): Promise<string> {
    const steps = this.decodeSteps(word);
    let r = steps.next();
    while (!r.done) r = steps.next(await step(r.value));
    return r.value;
  }
}
