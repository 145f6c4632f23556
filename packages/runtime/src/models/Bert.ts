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
  layerNorm,
  MASKED,
  mergeHeads,
  numberField,
  splitHeads,
} from "./ops.js";

export interface BertConfig {
  vocabSize: number;
  hiddenSize: number;
  numHeads: number;
  numLayers: number;
  intermediateSize: number;
  maxPositions: number;
  typeVocabSize: number;
  layerNormEps: number;
  activation: string;
}

export function parseBertConfig(c: Readonly<Record<string, unknown>>): BertConfig {
  const hiddenSize = numberField(c, "hidden_size");
  const numHeads = numberField(c, "num_attention_heads");
  if (hiddenSize % numHeads !== 0)
    throw new RuntimeError(
      "ModelLoadFailed",
      `config.json: expected hidden_size divisible by num_attention_heads, found ${hiddenSize} and ${numHeads}`,
    );
  const activation = typeof c.hidden_act === "string" ? c.hidden_act : "gelu";
  if (!activationByName(activation))
    throw new RuntimeError(
      "ModelLoadFailed",
      `config.json: expected a supported hidden_act (gelu, gelu_new, relu, ...), found '${activation}'`,
    );
  if (c.position_embedding_type !== undefined && c.position_embedding_type !== "absolute") {
    throw new RuntimeError(
      "ModelLoadFailed",
      `config.json: expected position_embedding_type 'absolute', found '${String(c.position_embedding_type)}'`,
    );
  }
  return {
    vocabSize: numberField(c, "vocab_size"),
    hiddenSize,
    numHeads,
    numLayers: numberField(c, "num_hidden_layers"),
    intermediateSize: numberField(c, "intermediate_size"),
    maxPositions: numberField(c, "max_position_embeddings", 512),
    typeVocabSize: numberField(c, "type_vocab_size", 2),
    layerNormEps: numberField(c, "layer_norm_eps", 1e-12),
    activation,
  };
}

export interface BertInputs {
  /** int32 [batch, seq] */
  inputIds: tf.Tensor;
  /** int32 [batch, seq], default zeros. */
  tokenTypeIds?: tf.Tensor;
  /** [batch, seq], 1 = attend, 0 = padding; default ones. */
  attentionMask?: tf.Tensor;
}

/**
 * BERT encoder with Hugging Face module names (`bert.encoder.layer.0.attention.self.query` under a
 * head model, `encoder.layer.0...` in a `BertModel`); nn.Linear weights are [out, in] in the checkpoint
 * and held transposed, [in, out]. With `BertLMHeadModel`/`BertForMaskedLM` the `cls.predictions` head
 * (transform, LayerNorm, decoder tied to the word embeddings, bias) gives logits over the vocabulary.
 */
export class Bert extends HfBase {
  readonly kind = "encoder" as const;
  readonly hparams: BertConfig;
  readonly hasLmHead: boolean;
  /** `bert.` under a head model, empty in a `BertModel`. */
  readonly prefix: string;
  private readonly act: Activation;
  private readonly p: ReadonlyMap<string, tf.Variable>;

  constructor(files: HfFiles, options: { lmHead?: boolean } = {}) {
    const hp = parseBertConfig(files.config);
    // One rule with @lowrank/formats' manifests: `architectures`, else the checkpoint's tensor names.
    const resolved = resolveArchitecture(files.config, (n) => files.weights.has(n));
    const lmHead = options.lmHead ?? resolved.lmHead;
    const prefix = lmHead ? "bert." : resolved.prefix;
    const ck = new Checkpoint(files.weights, "bert.");
    const params = new Map<string, tf.Variable>();
    const d = hp.hiddenSize;
    const load = (name: string, shape: number[], transpose = false) => {
      params.set(name, ck.variable(name, shape, transpose));
    };
    const linear = (name: string, fin: number, fout: number) => {
      load(`${name}.weight`, [fout, fin], true);
      load(`${name}.bias`, [fout]);
    };
    const ln = (name: string) => {
      load(`${name}.weight`, [d]);
      load(`${name}.bias`, [d]);
    };
    const e = `${prefix}embeddings.`;
    try {
      load(`${e}word_embeddings.weight`, [hp.vocabSize, d]);
      load(`${e}position_embeddings.weight`, [hp.maxPositions, d]);
      load(`${e}token_type_embeddings.weight`, [hp.typeVocabSize, d]);
      ln(`${e}LayerNorm`);
      for (let i = 0; i < hp.numLayers; i++) {
        for (const [m, fin, fout] of Bert.layerLinears(hp)) linear(`${prefix}encoder.layer.${i}.${m}`, fin, fout);
        ln(`${prefix}encoder.layer.${i}.attention.output.LayerNorm`);
        ln(`${prefix}encoder.layer.${i}.output.LayerNorm`);
      }
      if (lmHead) {
        linear("cls.predictions.transform.dense", d, d);
        ln("cls.predictions.transform.LayerNorm");
        load("cls.predictions.bias", [hp.vocabSize]);
      }
    } catch (error) {
      for (const v of params.values()) v.dispose();
      throw error;
    }
    const architecture = lmHead === resolved.lmHead ? resolved.architecture : lmHead ? "BertLMHeadModel" : "BertModel";
    super(architecture, "bert", files.config, params);
    this.hparams = hp;
    this.hasLmHead = lmHead;
    this.prefix = prefix;
    this.act = activationByName(hp.activation) as Activation;
    this.p = params;
    const add = (name: string, fin: number, fout: number) =>
      this.addLinear({
        name,
        layout: "linear",
        inFeatures: fin,
        outFeatures: fout,
        weight: this.w(`${name}.weight`),
        bias: this.w(`${name}.bias`),
      });
    for (let i = 0; i < hp.numLayers; i++)
      for (const [m, fin, fout] of Bert.layerLinears(hp)) add(`${prefix}encoder.layer.${i}.${m}`, fin, fout);
    this.addEmbedding(`${e}word_embeddings`, this.w(`${e}word_embeddings.weight`));
    this.addEmbedding(`${e}position_embeddings`, this.w(`${e}position_embeddings.weight`));
    this.addEmbedding(`${e}token_type_embeddings`, this.w(`${e}token_type_embeddings.weight`));
    if (lmHead) {
      add("cls.predictions.transform.dense", d, d);
      this.addLinear({
        name: "cls.predictions.decoder",
        layout: "linear",
        inFeatures: d,
        outFeatures: hp.vocabSize,
        weight: this.w(`${e}word_embeddings.weight`),
        bias: this.w("cls.predictions.bias"),
        tiedTo: `${e}word_embeddings`,
      });
    }
  }

  private static layerLinears(hp: BertConfig): Array<[string, number, number]> {
    const d = hp.hiddenSize;
    return [
      ["attention.self.query", d, d],
      ["attention.self.key", d, d],
      ["attention.self.value", d, d],
      ["attention.output.dense", d, d],
      ["intermediate.dense", d, hp.intermediateSize],
      ["output.dense", hp.intermediateSize, d],
    ];
  }

  private w(name: string): tf.Variable {
    const v = this.p.get(name);
    if (!v) throw new RuntimeError("ModelLoadFailed", `BERT: expected parameter '${name}', found none`);
    return v;
  }

  protected maxPositions(): number {
    return this.hparams.maxPositions;
  }

  get vocabSize(): number {
    return this.hparams.vocabSize;
  }

  /** ids int32 [batch, seq] (no padding, token type 0) -> logits [batch, seq, vocab] with the LM head, else the last hidden state. */
  forward(ids: tf.Tensor, linear: LinearFn = this.linear): tf.Tensor {
    return tf.tidy(() => {
      const { hidden, logits } = this.encode({ inputIds: ids }, linear);
      return logits ?? hidden;
    });
  }

  /** The encoder's last hidden state [batch, seq, hidden] and, with the LM head, the prediction logits. */
  encode(inputs: BertInputs, linear: LinearFn = this.linear): { hidden: tf.Tensor; logits?: tf.Tensor } {
    const hp = this.hparams;
    const { inputIds } = inputs;
    if (inputIds.rank !== 2)
      throw new RuntimeError(
        "InvalidArgument",
        `BERT forward: expected input_ids [batch, seq], found shape [${inputIds.shape}]`,
      );
    const [b, t] = inputIds.shape as [number, number];
    if (t > hp.maxPositions)
      throw new RuntimeError("InvalidArgument", `BERT forward: expected at most ${hp.maxPositions} tokens, found ${t}`);
    for (const [key, x] of [
      ["token_type_ids", inputs.tokenTypeIds],
      ["attention_mask", inputs.attentionMask],
    ] as const) {
      if (x && (x.rank !== 2 || x.shape[0] !== b || x.shape[1] !== t))
        throw new RuntimeError("InvalidArgument", `BERT forward: expected ${key} [${b}, ${t}], found [${x.shape}]`);
    }
    return tf.tidy(() => {
      const e = `${this.prefix}embeddings.`;
      const d = hp.hiddenSize;
      const flat = (x: tf.Tensor) => tf.reshape(tf.cast(x, "int32"), [-1]);
      let h: tf.Tensor = tf.reshape(tf.gather(this.w(`${e}word_embeddings.weight`), flat(inputIds)), [b, t, d]);
      h = tf.add(h, tf.gather(this.w(`${e}position_embeddings.weight`), tf.range(0, t, 1, "int32")));
      const types = inputs.tokenTypeIds ? flat(inputs.tokenTypeIds) : tf.zeros([b * t], "int32");
      h = tf.add(h, tf.reshape(tf.gather(this.w(`${e}token_type_embeddings.weight`), types), [b, t, d]));
      h = layerNorm(h, this.w(`${e}LayerNorm.weight`), this.w(`${e}LayerNorm.bias`), hp.layerNormEps);
      const mask = inputs.attentionMask
        ? tf.reshape(tf.mul(tf.sub(1, tf.cast(inputs.attentionMask, "float32")), MASKED), [b, 1, 1, t])
        : undefined;
      const scale = 1 / Math.sqrt(d / hp.numHeads);
      for (let i = 0; i < hp.numLayers; i++) {
        const q = `${this.prefix}encoder.layer.${i}.`;
        const heads = (m: string) => splitHeads(linear(q + m, h), hp.numHeads);
        const o = mergeHeads(
          attention(
            heads("attention.self.query"),
            heads("attention.self.key"),
            heads("attention.self.value"),
            scale,
            mask,
          ),
        );
        h = layerNorm(
          tf.add(linear(`${q}attention.output.dense`, o), h),
          this.w(`${q}attention.output.LayerNorm.weight`),
          this.w(`${q}attention.output.LayerNorm.bias`),
          hp.layerNormEps,
        );
        const m = linear(`${q}output.dense`, this.act(linear(`${q}intermediate.dense`, h)));
        h = layerNorm(
          tf.add(m, h),
          this.w(`${q}output.LayerNorm.weight`),
          this.w(`${q}output.LayerNorm.bias`),
          hp.layerNormEps,
        );
      }
      if (!this.hasLmHead) return { hidden: h };
      const c = "cls.predictions.";
      let z = this.act(linear(`${c}transform.dense`, h));
      z = layerNorm(
        z,
        this.w(`${c}transform.LayerNorm.weight`),
        this.w(`${c}transform.LayerNorm.bias`),
        hp.layerNormEps,
      );
      return { hidden: h, logits: linear(`${c}decoder`, z) };
    });
  }
}
