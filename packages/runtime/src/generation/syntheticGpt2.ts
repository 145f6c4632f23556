import { serializeSafetensors, type TensorInput } from "@lowrank/formats";
import { seededValues } from "../engine/synthetic.js";
import { hfFilesFromBytes } from "../models/Checkpoint.js";
import { Gpt2 } from "../models/Gpt2.js";

export interface SyntheticGpt2Options {
  vocab: number;
  dim: number;
  layers: number;
  heads: number;
  positions?: number;
  seed?: number;
  /** Hugging Face config fields to set besides the sizes (e.g. `scale_attn_by_inverse_layer_idx`). */
  config?: Record<string, unknown>;
}

/**
 * A GPT2LMHeadModel with seeded random weights, built through the same safetensors + config.json path as
 * a real checkpoint: for tests and benchmarks that need more layers and heads than the tiny fixtures.
 */
export function createSyntheticGpt2(o: SyntheticGpt2Options): Gpt2 {
  const { vocab, dim: d, layers, heads, positions = 256, seed = 1 } = o;
  const tensors: Record<string, TensorInput> = {};
  let s = seed * 100_003;
  const put = (name: string, shape: number[], amp: number, offset = 0) => {
    const data = seededValues(
      s++,
      shape.reduce((a, b) => a * b, 1),
      amp,
    );
    if (offset) for (let i = 0; i < data.length; i++) data[i] = (data[i] as number) + offset;
    tensors[`transformer.${name}`] = { dtype: "F32", shape, data };
  };
  put("wte.weight", [vocab, d], 0.5);
  put("wpe.weight", [positions, d], 0.2);
  for (let i = 0; i < layers; i++) {
    put(`h.${i}.ln_1.weight`, [d], 0.1, 1);
    put(`h.${i}.ln_1.bias`, [d], 0.1);
    put(`h.${i}.ln_2.weight`, [d], 0.1, 1);
    put(`h.${i}.ln_2.bias`, [d], 0.1);
    put(`h.${i}.attn.c_attn.weight`, [d, 3 * d], 1 / Math.sqrt(d));
    put(`h.${i}.attn.c_attn.bias`, [3 * d], 0.05);
    put(`h.${i}.attn.c_proj.weight`, [d, d], 1 / Math.sqrt(d));
    put(`h.${i}.attn.c_proj.bias`, [d], 0.05);
    put(`h.${i}.mlp.c_fc.weight`, [d, 4 * d], 1 / Math.sqrt(d));
    put(`h.${i}.mlp.c_fc.bias`, [4 * d], 0.05);
    put(`h.${i}.mlp.c_proj.weight`, [4 * d, d], 1 / Math.sqrt(4 * d));
    put(`h.${i}.mlp.c_proj.bias`, [d], 0.05);
  }
  put("ln_f.weight", [d], 0.1, 1);
  put("ln_f.bias", [d], 0.1);
  const config = {
    architectures: ["GPT2LMHeadModel"],
    model_type: "gpt2",
    vocab_size: vocab,
    n_embd: d,
    n_head: heads,
    n_layer: layers,
    n_positions: positions,
    activation_function: "gelu_new",
    eos_token_id: vocab - 1,
    bos_token_id: vocab - 1,
    ...o.config,
  };
  return new Gpt2(hfFilesFromBytes(config, serializeSafetensors(tensors)));
}
