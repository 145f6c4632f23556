import { Rng, type TrainableModel } from "@lowrank/core";
import * as tf from "@tensorflow/tfjs-core";

export interface TinyGpt2Config {
  vocabSize: number;
  nEmbd: number;
  nHead: number;
  nLayer: number;
  nPositions: number;
}

/**
 * A GPT-2 language model (`GPT2LMHeadModel`: pre-norm blocks, causal self-attention, tanh GELU,
 * learned positions, LM head tied to the token embedding) written here on tfjs-core so that every
 * weight trains. Parameters carry the Hugging Face names and layouts (`transformer.h.0.attn.c_attn.weight`
 * as Conv1D [in, out]), so the saved folder is what `@lowrank/runtime`'s `Gpt2` loads; the recipe's
 * tests check the two give the same logits. Written apart from the runtime's forward on purpose (one
 * fused QKV reshape, a multiplicative causal mask, embeddings by one-hot matmul since the wasm
 * backend has no gradient for gather), so that agreement is an independent check.
 */
export class TinyGpt2 implements TrainableModel {
  private static instances = 0;
  readonly params = new Map<string, tf.Variable>();

  constructor(
    readonly config: TinyGpt2Config,
    seed: number,
  ) {
    TinyGpt2.instances++;
    const rng = new Rng(seed);
    const { vocabSize: v, nEmbd: d, nLayer: L, nPositions: P } = config;
    if (d % config.nHead !== 0) throw new Error(`TinyGpt2: n_embd ${d} is not divisible by n_head ${config.nHead}`);
    const add = (name: string, shape: number[], values: Float32Array) =>
      this.params.set(name, tf.variable(tf.tensor(values, shape), true, `tinygpt2_${TinyGpt2.instances}/${name}`));
    const ones = (n: number) => new Float32Array(n).fill(1);
    // GPT-2's initialization: N(0, 0.02), residual projections scaled by 1/sqrt(2 L), zero biases, unit norms.
    add("transformer.wte.weight", [v, d], rng.fillNormal(v * d, 0.02));
    add("transformer.wpe.weight", [P, d], rng.fillNormal(P * d, 0.01));
    const proj = 0.02 / Math.sqrt(2 * L);
    for (let i = 0; i < L; i++) {
      const h = `transformer.h.${i}.`;
      for (const ln of ["ln_1", "ln_2"]) {
        add(`${h}${ln}.weight`, [d], ones(d));
        add(`${h}${ln}.bias`, [d], new Float32Array(d));
      }
      for (const [m, fin, fout, std] of [
        ["attn.c_attn", d, 3 * d, 0.02],
        ["attn.c_proj", d, d, proj],
        ["mlp.c_fc", d, 4 * d, 0.02],
        ["mlp.c_proj", 4 * d, d, proj],
      ] as const) {
        add(`${h}${m}.weight`, [fin, fout], rng.fillNormal(fin * fout, std));
        add(`${h}${m}.bias`, [fout], new Float32Array(fout));
      }
    }
    add("transformer.ln_f.weight", [d], ones(d));
    add("transformer.ln_f.bias", [d], new Float32Array(d));
  }

  private p(name: string): tf.Variable {
    const v = this.params.get(name);
    if (!v) throw new Error(`TinyGpt2: no parameter ${name}`);
    return v;
  }

  /** Hugging Face `config.json` of this model. */
  hfConfig(): Record<string, unknown> {
    const c = this.config;
    return {
      architectures: ["GPT2LMHeadModel"],
      model_type: "gpt2",
      vocab_size: c.vocabSize,
      n_embd: c.nEmbd,
      n_head: c.nHead,
      n_layer: c.nLayer,
      n_positions: c.nPositions,
      n_ctx: c.nPositions,
      n_inner: null,
      activation_function: "gelu_new",
      layer_norm_epsilon: 1e-5,
      resid_pdrop: 0,
      embd_pdrop: 0,
      attn_pdrop: 0,
      tie_word_embeddings: true,
      torch_dtype: "float32",
    };
  }

  private norm(x: tf.Tensor, name: string): tf.Tensor {
    const mean = tf.mean(x, -1, true);
    const centered = tf.sub(x, mean);
    const variance = tf.mean(tf.square(centered), -1, true);
    return tf.add(
      tf.mul(tf.div(centered, tf.sqrt(tf.add(variance, 1e-5))), this.p(`${name}.weight`)),
      this.p(`${name}.bias`),
    );
  }

  private dense(x2d: tf.Tensor2D, name: string): tf.Tensor2D {
    return tf.add(tf.matMul(x2d, this.p(`${name}.weight`) as tf.Tensor2D), this.p(`${name}.bias`));
  }

  /** ids int32 [batch, seq] -> logits [batch, seq, vocab]. */
  forward(ids: tf.Tensor): tf.Tensor3D {
    return tf.tidy(() => {
      const { vocabSize: V, nEmbd: d, nHead: H, nLayer: L } = this.config;
      const [b, t] = ids.shape as [number, number];
      const hd = d / H;
      const onehot = tf.oneHot(tf.reshape(tf.cast(ids, "int32"), [-1]), V);
      const tok = tf.matMul(onehot, this.p("transformer.wte.weight") as tf.Tensor2D); // [b*t, d]
      const pos = tf.tile(tf.slice(this.p("transformer.wpe.weight"), [0, 0], [t, d]), [b, 1]);
      let x: tf.Tensor2D = tf.add(tok, pos);
      // keep[i][j] = 1 where query i may see key j (j <= i)
      const keep = tf.tensor2d(
        Float32Array.from({ length: t * t }, (_, k) => (k % t <= Math.floor(k / t) ? 1 : 0)),
        [t, t],
      );
      for (let i = 0; i < L; i++) {
        const h = `transformer.h.${i}.`;
        const qkv = tf.transpose(
          tf.reshape(this.dense(this.norm(x, `${h}ln_1`) as tf.Tensor2D, `${h}attn.c_attn`), [b, t, 3, H, hd]),
          [2, 0, 3, 1, 4],
        );
        const [q, k, v] = tf.unstack(qkv) as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
        const scores = tf.div(tf.matMul(q, k, false, true), Math.sqrt(hd));
        const masked = tf.add(tf.mul(scores, keep), tf.mul(tf.sub(1, keep), -1e4));
        const ctx = tf.reshape(tf.transpose(tf.matMul(tf.softmax(masked), v), [0, 2, 1, 3]), [b * t, d]) as tf.Tensor2D;
        x = tf.add(x, this.dense(ctx, `${h}attn.c_proj`));
        const u = this.dense(this.norm(x, `${h}ln_2`) as tf.Tensor2D, `${h}mlp.c_fc`);
        const gelu = tf.mul(
          tf.mul(u, 0.5),
          tf.add(1, tf.tanh(tf.mul(Math.sqrt(2 / Math.PI), tf.add(u, tf.mul(0.044715, tf.mul(u, tf.mul(u, u))))))),
        );
        x = tf.add(x, this.dense(gelu as tf.Tensor2D, `${h}mlp.c_proj`));
      }
      const out = this.norm(x, "transformer.ln_f");
      return tf.reshape(tf.matMul(out as tf.Tensor2D, this.p("transformer.wte.weight") as tf.Tensor2D, false, true), [
        b,
        t,
        V,
      ]);
    });
  }

  trainableVariables(): tf.Variable[] {
    return [...this.params.values()];
  }

  dispose(): void {
    for (const v of this.params.values()) v.dispose();
  }
}
