import type { LinearHost, LinearModule } from "@lowrank/core";
import { Rng } from "@lowrank/core";
import * as tf from "@tensorflow/tfjs-core";

export interface Seq2SeqConfig {
  vocab: number;
  /** Source length (padded). */
  srcLen: number;
  /** Target length (padded; decoder input is BOS + target shifted right). */
  tgtLen: number;
  dim: number;
  ffn: number;
  encoderLayers: number;
  decoderLayers: number;
}

export const PAD = 0;
export const BOS = 1;
export const EOS = 2;

/**
 * A small encoder-decoder transformer (single-head attention, post-norm) written on tfjs-core as a
 * `LinearHost`: every projection is a named linear module (`decoder.layers.0.encoder_attn.q_proj`), so
 * `injectLora` can adapt it. Input rows are `[src (srcLen ids) | decoder input (tgtLen ids)]`, output
 * logits [n, tgtLen, vocab].
 */
export class Seq2Seq implements LinearHost {
  private static instances = 0;
  private readonly modules = new Map<string, LinearModule>();
  private readonly vars = new Map<string, tf.Variable>();

  constructor(
    readonly config: Seq2SeqConfig,
    seed: number,
  ) {
    Seq2Seq.instances++;
    const rng = new Rng(seed);
    const { dim, ffn, vocab } = config;
    const param = (name: string, shape: number[], values: Float32Array) => {
      const v = tf.variable(tf.tensor(values, shape), true, `seq2seq${Seq2Seq.instances}/${name}`);
      this.vars.set(name, v);
      return v;
    };
    const linear = (name: string, inp: number, out: number) => {
      const a = Math.sqrt(6 / (inp + out));
      const weight = param(`${name}.weight`, [inp, out], rng.fillUniform(inp * out, -a, a));
      const bias = param(`${name}.bias`, [out], new Float32Array(out));
      this.modules.set(name, { kind: "linear", weight, bias });
    };
    const norm = (name: string) => {
      param(`${name}.weight`, [dim], new Float32Array(dim).fill(1));
      param(`${name}.bias`, [dim], new Float32Array(dim));
    };
    // A plain table, looked up by one-hot matmul: the wasm backend has no gradient kernel for gather.
    param("embed_tokens.weight", [vocab, dim], rng.fillNormal(vocab * dim, 0.3));
    param("embed_positions_src.weight", [config.srcLen, dim], rng.fillNormal(config.srcLen * dim, 0.1));
    param("embed_positions_tgt.weight", [config.tgtLen, dim], rng.fillNormal(config.tgtLen * dim, 0.1));
    const attn = (p: string) => {
      for (const proj of ["q_proj", "k_proj", "v_proj", "out_proj"]) linear(`${p}.${proj}`, dim, dim);
    };
    for (let i = 0; i < config.encoderLayers; i++) {
      const p = `encoder.layers.${i}`;
      attn(`${p}.self_attn`);
      norm(`${p}.self_attn_layer_norm`);
      linear(`${p}.fc1`, dim, ffn);
      linear(`${p}.fc2`, ffn, dim);
      norm(`${p}.final_layer_norm`);
    }
    for (let i = 0; i < config.decoderLayers; i++) {
      const p = `decoder.layers.${i}`;
      attn(`${p}.self_attn`);
      norm(`${p}.self_attn_layer_norm`);
      attn(`${p}.encoder_attn`);
      norm(`${p}.encoder_attn_layer_norm`);
      linear(`${p}.fc1`, dim, ffn);
      linear(`${p}.fc2`, ffn, dim);
      norm(`${p}.final_layer_norm`);
    }
    linear("lm_head", dim, vocab);
  }

  linearModules(): Map<string, LinearModule> {
    return this.modules;
  }
  outputModuleNames(): string[] {
    return ["lm_head"];
  }
  namedVariables(): Map<string, tf.Variable> {
    return new Map(this.vars);
  }

  private lin(name: string, x: tf.Tensor, training: boolean): tf.Tensor {
    const m = this.modules.get(name) as LinearModule;
    if (m.lora) return m.lora.forward(x, { training });
    const lead = x.shape.slice(0, -1);
    const y = tf.add(tf.matMul(tf.reshape(x, [-1, m.weight.shape[0] as number]), m.weight), m.bias as tf.Variable);
    return tf.reshape(y, [...lead, m.weight.shape[1] as number]);
  }
  private norm(name: string, x: tf.Tensor): tf.Tensor {
    const { mean, variance } = tf.moments(x, -1, true);
    const g = this.vars.get(`${name}.weight`) as tf.Variable;
    const b = this.vars.get(`${name}.bias`) as tf.Variable;
    return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-5))), g), b);
  }
  private embed(ids: tf.Tensor): tf.Tensor {
    const table = this.vars.get("embed_tokens.weight") as tf.Variable;
    const flat = tf.oneHot(tf.reshape(ids, [-1]), this.config.vocab);
    return tf.reshape(tf.matMul(flat, table), [...ids.shape, this.config.dim]);
  }
  /** Single-head scaled dot-product attention; `mask` [n or 1, Lq, Lk] is 1 where attending is allowed. */
  private attention(p: string, q: tf.Tensor, kv: tf.Tensor, mask: tf.Tensor, training: boolean): tf.Tensor {
    const Q = this.lin(`${p}.q_proj`, q, training);
    const K = this.lin(`${p}.k_proj`, kv, training);
    const V = this.lin(`${p}.v_proj`, kv, training);
    const scores = tf.div(tf.matMul(Q, K, false, true), Math.sqrt(this.config.dim));
    const masked = tf.add(scores, tf.mul(tf.sub(1, mask), -1e9));
    return this.lin(`${p}.out_proj`, tf.matMul(tf.softmax(masked, -1), V), training);
  }
  private ffn(p: string, x: tf.Tensor, training: boolean): tf.Tensor {
    return this.lin(`${p}.fc2`, tf.relu(this.lin(`${p}.fc1`, x, training)), training);
  }

  forward(x: tf.Tensor, opts: { training: boolean }): tf.Tensor {
    const { srcLen, tgtLen } = this.config;
    const training = opts.training;
    return tf.tidy(() => {
      const ids = tf.cast(x, "int32");
      const n = ids.shape[0] as number;
      const src = tf.slice(ids, [0, 0], [n, srcLen]);
      const tgt = tf.slice(ids, [0, srcLen], [n, tgtLen]);
      const srcKeep = tf.expandDims(tf.cast(tf.notEqual(src, PAD), "float32"), 1); // [n, 1, Ls]
      let h = tf.add(this.embed(src), this.vars.get("embed_positions_src.weight") as tf.Variable);
      for (let i = 0; i < this.config.encoderLayers; i++) {
        const p = `encoder.layers.${i}`;
        h = this.norm(
          `${p}.self_attn_layer_norm`,
          tf.add(h, this.attention(`${p}.self_attn`, h, h, srcKeep, training)),
        );
        h = this.norm(`${p}.final_layer_norm`, tf.add(h, this.ffn(p, h, training)));
      }
      const causal = tf.expandDims(tf.linalg.bandPart(tf.ones([tgtLen, tgtLen]), -1, 0), 0);
      let d = tf.add(this.embed(tgt), this.vars.get("embed_positions_tgt.weight") as tf.Variable);
      for (let i = 0; i < this.config.decoderLayers; i++) {
        const p = `decoder.layers.${i}`;
        d = this.norm(`${p}.self_attn_layer_norm`, tf.add(d, this.attention(`${p}.self_attn`, d, d, causal, training)));
        d = this.norm(
          `${p}.encoder_attn_layer_norm`,
          tf.add(d, this.attention(`${p}.encoder_attn`, d, h, srcKeep, training)),
        );
        d = this.norm(`${p}.final_layer_norm`, tf.add(d, this.ffn(p, d, training)));
      }
      return this.lin("lm_head", d, training);
    });
  }

  dispose(): void {
    for (const v of this.vars.values()) v.dispose();
  }
}
