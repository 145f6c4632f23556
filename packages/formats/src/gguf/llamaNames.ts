/** Hugging Face Llama-family module suffixes and their GGUF tensor names (llama.cpp's tensor map). */
export const LLAMA_MODULES: ReadonlyArray<readonly [hf: string, gguf: string]> = [
  ["self_attn.q_proj", "attn_q"],
  ["self_attn.k_proj", "attn_k"],
  ["self_attn.v_proj", "attn_v"],
  ["self_attn.o_proj", "attn_output"],
  ["mlp.gate_proj", "ffn_gate"],
  ["mlp.up_proj", "ffn_up"],
  ["mlp.down_proj", "ffn_down"],
];

const HF = /^(?:model\.)?layers\.(\d+)\.(.+)$/;
const GGUF = /^blk\.(\d+)\.(\w+)\.weight$/;

/** `model.layers.3.self_attn.q_proj` -> `blk.3.attn_q.weight`; undefined for modules llama.cpp has no LoRA name for. */
export function hfToGgufTensorName(module: string): string | undefined {
  const m = HF.exec(module);
  if (!m) return undefined;
  const found = LLAMA_MODULES.find(([hf]) => hf === m[2]);
  return found ? `blk.${m[1]}.${found[1]}.weight` : undefined;
}

/** `blk.3.attn_q.weight` -> `model.layers.3.self_attn.q_proj` (LlamaForCausalLM names). */
export function ggufToHfModule(tensor: string): string | undefined {
  const m = GGUF.exec(tensor);
  if (!m) return undefined;
  const found = LLAMA_MODULES.find(([, g]) => g === m[2]);
  return found ? `model.layers.${m[1]}.${found[0]}` : undefined;
}

/**
 * llama.cpp's converter permutes the output rows of q_proj and k_proj for its RoPE layout
 * (`reshape(n_head, 2, dim/n_head/2, ...).swapaxes(1, 2)`); for a LoRA only B's rows move. Returns
 * the row order: `out[row] = in[order[row]]` (or the inverse).
 */
export function ropeRowOrder(rows: number, heads: number, inverse = false): Int32Array {
  const headDim = rows / heads;
  const half = headDim / 2;
  const order = new Int32Array(rows);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < half; i++) {
      for (let j = 0; j < 2; j++) {
        const permuted = h * headDim + i * 2 + j;
        const original = h * headDim + j * half + i;
        if (inverse) order[original] = permuted;
        else order[permuted] = original;
      }
    }
  }
  return order;
}

/** Copies rows of a row-major [rows, rowBytes] buffer in the given order. */
export function reorderRows(data: Uint8Array, rows: number, order: Int32Array): Uint8Array {
  const rowBytes = data.length / rows;
  const out = new Uint8Array(data.length);
  for (let r = 0; r < rows; r++) {
    const src = (order[r] as number) * rowBytes;
    out.set(data.subarray(src, src + rowBytes), r * rowBytes);
  }
  return out;
}
