#!/usr/bin/env python3
"""A GGUF LoRA written by llama.cpp's own Python writer (gguf-py, PyPI `gguf`), laid out as
llama.cpp's convert_lora_to_gguf.py lays out a PEFT adapter, so lowrank's reader is tested against
bytes another tool wrote. Needs `pip install gguf==0.19.0` (and NumPy).

The PEFT adapter it encodes (llama, hidden 8, 2 heads, vocab 16, r 2, lora_alpha 4):
  model.embed_tokens          lora_embedding_A [2, 16]  lora_embedding_B [8, 2]
  model.layers.0.self_attn.q_proj  lora_A [2, 8]   lora_B [8, 2]
  model.layers.0.mlp.down_proj     lora_A [2, 12]  lora_B [8, 2]
Values: the k-th tensor in that order (A then B for each module, k from 0) holds
(i + 100 k) / 64 for its i-th element in row-major order, as float32.

Layout (convert_lora_to_gguf.py): lora_a = A, lora_b = B (torch order; GGUF ne is reversed), except
token_embd, whose lora_a is A transposed; q_proj's B rows are permuted by LlamaModel.permute with
n_head 2. adapter.lora.alpha is f32; no head counts are stored.

Run from the repository root:  python3 tooling/golden/make_gguf_lora.py
"""

import os

import gguf
import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "fixtures", "gguf-lora-gguf-py", "llama-lora-embd-q-down.gguf")

HEADS = 2
SHAPES = [
    ("token_embd.weight", (2, 16), (8, 2)),
    ("blk.0.attn_q.weight", (2, 8), (8, 2)),
    ("blk.0.ffn_down.weight", (2, 12), (8, 2)),
]


def values(k, shape):
    n = int(np.prod(shape))
    return ((np.arange(n, dtype=np.float64) + 100 * k) / 64).astype(np.float32).reshape(shape)


def permute(w, n_head):
    # LlamaModel.permute in convert_hf_to_gguf.py
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def main():
    writer = gguf.GGUFWriter(OUT, "llama")
    writer.add_type(gguf.GGUFType.ADAPTER)
    writer.add_string(gguf.Keys.Adapter.TYPE, "lora")
    writer.add_float32(gguf.Keys.Adapter.LORA_ALPHA, 4.0)
    writer.add_name("gguf-py test adapter")
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    writer.add_quantization_version(gguf.GGML_QUANT_VERSION)
    for k, (name, a_shape, b_shape) in enumerate(SHAPES):
        a = values(2 * k, a_shape)
        b = values(2 * k + 1, b_shape)
        if name == "token_embd.weight":
            a = np.ascontiguousarray(a.T)
        if name == "blk.0.attn_q.weight":
            b = np.ascontiguousarray(permute(b, HEADS))
        writer.add_tensor(name + ".lora_a", a)
        writer.add_tensor(name + ".lora_b", b)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


if __name__ == "__main__":
    main()
