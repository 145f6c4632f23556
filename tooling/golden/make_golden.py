#!/usr/bin/env python3
"""Golden values for @lowrank/runtime's GPT-2 and BERT, from an independent NumPy implementation.

Only NumPy is used (no torch, no transformers, no safetensors package): the safetensors reader and
writer below are a few lines of struct/NumPy, and the forward passes follow the Hugging Face
modeling code's math in float64. For each fixture model the script writes

  tooling/golden/<name>.json            inputs and outputs, base and with the synthetic adapter
  tooling/golden/adapters/<name>/        the synthetic adapter as a PEFT folder
                                         (adapter_config.json + adapter_model.safetensors)

The fixture models have one head and one layer, so the script also writes small random-weight models
with several heads and layers as Hugging Face folders, which the runtime loads like any other:

  tooling/golden/models/<name>/          config.json + model.safetensors (seeded)

Run from the repository root:  python3 tooling/golden/make_golden.py
The adapter weights come from NumPy's seeded PCG64 generator, so reruns write identical files.
"""

import json
import math
import os
import struct

import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "tooling", "golden")
FIXTURES = os.path.join(ROOT, "fixtures")

DTYPES = {"F32": np.float32, "F16": np.float16, "F64": np.float64}


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    data = raw[8 + n :]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        buf = data[start:end]
        if info["dtype"] == "BF16":
            bits = np.frombuffer(buf, dtype="<u2").astype(np.uint32) << 16
            arr = bits.view(np.float32)
        else:
            arr = np.frombuffer(buf, dtype=np.dtype(DTYPES[info["dtype"]]).newbyteorder("<"))
        out[name] = arr.astype(np.float64).reshape(info["shape"])
    return out


def write_safetensors(path, tensors):
    """F32 tensors, sorted by name, header padded with spaces to a multiple of 8 (as the reference)."""
    header = {}
    blobs = []
    offset = 0
    for name in sorted(tensors):
        b = np.ascontiguousarray(tensors[name], dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape), "data_offsets": [offset, offset + len(b)]}
        offset += len(b)
        blobs.append(b)
    js = json.dumps(header, separators=(",", ":")).encode()
    js += b" " * ((8 - len(js) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(js)) + js + b"".join(blobs))


def layer_norm(x, w, b, eps):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def gelu_tanh(x):
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)))


_erf = np.vectorize(math.erf)


def gelu_erf(x):
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))


def softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


class Lora:
    """PEFT LoRA: y += scaling * (x @ A^T) @ B^T with A [r, in], B [out, r]."""

    def __init__(self, factors, scaling):
        self.factors = factors
        self.scaling = scaling

    def delta(self, module, x):
        f = self.factors.get(module)
        if f is None:
            return 0.0
        a, b = f
        return self.scaling * (x @ a.T) @ b.T


def conv1d(w, module, x, lora, wb):
    """GPT-2 Conv1D: weight stored [in, out]."""
    y = x @ wb[module + ".weight"] + wb[module + ".bias"]
    return y + (lora.delta(module, x) if lora else 0.0)


def linear(w, module, x, lora, wb):
    """torch nn.Linear: weight stored [out, in]."""
    y = x @ wb[module + ".weight"].T + wb[module + ".bias"]
    return y + (lora.delta(module, x) if lora else 0.0)


def gpt2_forward(cfg, wb, prefix, ids, lora=None, lm_head=False):
    ids = np.asarray(ids)
    bsz, t = ids.shape
    d = cfg["n_embd"]
    nh = cfg["n_head"]
    hd = d // nh
    eps = cfg["layer_norm_epsilon"]
    p = prefix
    h = wb[p + "wte.weight"][ids] + wb[p + "wpe.weight"][np.arange(t)][None]
    causal = np.tril(np.ones((t, t), dtype=bool))
    for i in range(cfg["n_layer"]):
        q = f"{p}h.{i}."
        a = layer_norm(h, wb[q + "ln_1.weight"], wb[q + "ln_1.bias"], eps)
        qkv = conv1d(None, q + "attn.c_attn", a, lora, wb)
        qq, kk, vv = np.split(qkv, 3, axis=-1)
        heads = lambda z: z.reshape(bsz, t, nh, hd).transpose(0, 2, 1, 3)
        qq, kk, vv = heads(qq), heads(kk), heads(vv)
        s = qq @ kk.transpose(0, 1, 3, 2)
        if cfg.get("scale_attn_weights", True):
            s = s / math.sqrt(hd)
        if cfg.get("scale_attn_by_inverse_layer_idx", False):
            s = s / float(i + 1)
        s = np.where(causal[None, None], s, -1e30)
        o = (softmax(s) @ vv).transpose(0, 2, 1, 3).reshape(bsz, t, d)
        h = h + conv1d(None, q + "attn.c_proj", o, lora, wb)
        m = layer_norm(h, wb[q + "ln_2.weight"], wb[q + "ln_2.bias"], eps)
        m = gelu_tanh(conv1d(None, q + "mlp.c_fc", m, lora, wb))
        h = h + conv1d(None, q + "mlp.c_proj", m, lora, wb)
    h = layer_norm(h, wb[p + "ln_f.weight"], wb[p + "ln_f.bias"], eps)
    if lm_head:
        return h @ wb[p + "wte.weight"].T
    return h


def bert_forward(cfg, wb, ids, token_types=None, mask=None, lora=None):
    ids = np.asarray(ids)
    bsz, t = ids.shape
    d = cfg["hidden_size"]
    nh = cfg["num_attention_heads"]
    hd = d // nh
    eps = cfg["layer_norm_eps"]
    token_types = np.zeros_like(ids) if token_types is None else np.asarray(token_types)
    mask = np.ones_like(ids) if mask is None else np.asarray(mask)
    e = "bert.embeddings."
    h = wb[e + "word_embeddings.weight"][ids] + wb[e + "position_embeddings.weight"][np.arange(t)][None]
    h = h + wb[e + "token_type_embeddings.weight"][token_types]
    h = layer_norm(h, wb[e + "LayerNorm.weight"], wb[e + "LayerNorm.bias"], eps)
    ext = (1.0 - mask[:, None, None, :]) * -1e30
    for i in range(cfg["num_hidden_layers"]):
        q = f"bert.encoder.layer.{i}."
        heads = lambda z: z.reshape(bsz, t, nh, hd).transpose(0, 2, 1, 3)
        qq = heads(linear(None, q + "attention.self.query", h, lora, wb))
        kk = heads(linear(None, q + "attention.self.key", h, lora, wb))
        vv = heads(linear(None, q + "attention.self.value", h, lora, wb))
        s = qq @ kk.transpose(0, 1, 3, 2) / math.sqrt(hd) + ext
        o = (softmax(s) @ vv).transpose(0, 2, 1, 3).reshape(bsz, t, d)
        o = linear(None, q + "attention.output.dense", o, lora, wb)
        h = layer_norm(o + h, wb[q + "attention.output.LayerNorm.weight"], wb[q + "attention.output.LayerNorm.bias"], eps)
        m = gelu_erf(linear(None, q + "intermediate.dense", h, lora, wb))
        m = linear(None, q + "output.dense", m, lora, wb)
        h = layer_norm(m + h, wb[q + "output.LayerNorm.weight"], wb[q + "output.LayerNorm.bias"], eps)
    c = "cls.predictions."
    z = gelu_erf(linear(None, c + "transform.dense", h, None, wb))
    z = layer_norm(z, wb[c + "transform.LayerNorm.weight"], wb[c + "transform.LayerNorm.bias"], eps)
    logits = z @ wb["bert.embeddings.word_embeddings.weight"].T + wb[c + "bias"]
    return h, logits


def make_adapter(name, wb, modules, layout, r, alpha, seed, fan_in_fan_out, task_type, base_name, targets=None):
    """Seeded LoRA factors for `modules`; writes them as a PEFT folder and returns a Lora.

    `targets` is the config's target_modules (default: the modules' last name components)."""
    rng = np.random.default_rng(seed)
    factors = {}
    tensors = {}
    for m in modules:
        w = wb[m + ".weight"]
        fin, fout = (w.shape[0], w.shape[1]) if layout == "conv1d" else (w.shape[1], w.shape[0])
        a = rng.uniform(-1.0, 1.0, size=(r, fin)).astype(np.float32).astype(np.float64)
        b = rng.uniform(-0.5, 0.5, size=(fout, r)).astype(np.float32).astype(np.float64)
        factors[m] = (a, b)
        tensors[f"base_model.model.{m}.lora_A.weight"] = a
        tensors[f"base_model.model.{m}.lora_B.weight"] = b
    folder = os.path.join(OUT, "adapters", name)
    os.makedirs(folder, exist_ok=True)
    suffixes = sorted(targets or {m.split(".")[-1] for m in modules})
    config = {
        "base_model_name_or_path": base_name,
        "bias": "none",
        "fan_in_fan_out": fan_in_fan_out,
        "inference_mode": True,
        "init_lora_weights": True,
        "lora_alpha": alpha,
        "lora_dropout": 0.0,
        "peft_type": "LORA",
        "r": r,
        "target_modules": suffixes,
        "task_type": task_type,
    }
    with open(os.path.join(folder, "adapter_config.json"), "w") as f:
        json.dump(config, f, indent=2, sort_keys=True)
        f.write("\n")
    write_safetensors(os.path.join(folder, "adapter_model.safetensors"), tensors)
    return Lora(factors, alpha / r)


def rows(x):
    return [[float(v) for v in row] for row in np.asarray(x).reshape(-1, np.asarray(x).shape[-1])]


def logits_summary(logits, columns):
    """Full logits of a 50k vocabulary would be megabytes: keep chosen columns and per-row statistics."""
    flat = np.asarray(logits).reshape(-1, logits.shape[-1])
    return {
        "columns": columns,
        "values": [[float(r[c]) for c in columns] for r in flat],
        "argmax": [int(np.argmax(r)) for r in flat],
        "max": [float(r.max()) for r in flat],
        "sum": [float(r.sum()) for r in flat],
        "sumsq": [float((r * r).sum()) for r in flat],
    }


def greedy(cfg, wb, prefix, ids, steps, lora=None):
    ids = list(ids)
    out = []
    for _ in range(steps):
        logits = gpt2_forward(cfg, wb, prefix, [ids], lora, lm_head=True)
        nxt = int(np.argmax(logits[0, -1]))
        ids.append(nxt)
        out.append(nxt)
    return out


def save(name, obj):
    with open(os.path.join(OUT, name + ".json"), "w") as f:
        json.dump(obj, f, indent=1)
        f.write("\n")


def load(folder):
    with open(os.path.join(FIXTURES, folder, "config.json")) as f:
        cfg = json.load(f)
    return cfg, read_safetensors(os.path.join(FIXTURES, folder, "model.safetensors"))


def write_model(name, config, tensors):
    """A Hugging Face folder (config.json + model.safetensors, F32); returns the weights as stored."""
    folder = os.path.join(OUT, "models", name)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(config, f, indent=2, sort_keys=True)
        f.write("\n")
    path = os.path.join(folder, "model.safetensors")
    write_safetensors(path, tensors)
    return read_safetensors(path)  # float32-rounded values, in float64


def random_gpt2(seed, vocab, positions, d, heads, layers):
    """GPT2LMHeadModel weights (`transformer.` prefix, lm_head tied to wte, Conv1D [in, out])."""
    rng = np.random.default_rng(seed)
    n = lambda std, *shape: rng.normal(0.0, std, size=shape)
    t = {"transformer.wte.weight": n(0.5, vocab, d), "transformer.wpe.weight": n(0.3, positions, d)}
    for i in range(layers):
        q = f"transformer.h.{i}."
        for ln in ("ln_1", "ln_2"):
            t[q + ln + ".weight"] = 1.0 + n(0.1, d)
            t[q + ln + ".bias"] = n(0.1, d)
        for m, fin, fout, std in (("attn.c_attn", d, 3 * d, 0.35), ("attn.c_proj", d, d, 0.2), ("mlp.c_fc", d, 4 * d, 0.25), ("mlp.c_proj", 4 * d, d, 0.15)):
            t[q + m + ".weight"] = n(std, fin, fout)
            t[q + m + ".bias"] = n(0.05, fout)
    t["transformer.ln_f.weight"] = 1.0 + n(0.1, d)
    t["transformer.ln_f.bias"] = n(0.1, d)
    config = {
        "activation_function": "gelu_new", "architectures": ["GPT2LMHeadModel"], "layer_norm_epsilon": 1e-5,
        "model_type": "gpt2", "n_embd": d, "n_head": heads, "n_inner": None, "n_layer": layers,
        "n_positions": positions, "scale_attn_by_inverse_layer_idx": True, "scale_attn_weights": True,
        "vocab_size": vocab,
    }
    return config, t


def random_bert(seed, vocab, positions, d, heads, layers, inner):
    """BertForMaskedLM weights (`bert.` prefix, nn.Linear [out, in], decoder tied to the word embeddings)."""
    rng = np.random.default_rng(seed)
    n = lambda std, *shape: rng.normal(0.0, std, size=shape)
    e = "bert.embeddings."
    t = {
        e + "word_embeddings.weight": n(0.5, vocab, d),
        e + "position_embeddings.weight": n(0.3, positions, d),
        e + "token_type_embeddings.weight": n(0.3, 2, d),
    }

    def ln(name):
        t[name + ".weight"] = 1.0 + n(0.1, d)
        t[name + ".bias"] = n(0.1, d)

    def lin(name, fin, fout, std):
        t[name + ".weight"] = n(std, fout, fin)
        t[name + ".bias"] = n(0.05, fout)

    ln(e + "LayerNorm")
    for i in range(layers):
        q = f"bert.encoder.layer.{i}."
        for m in ("query", "key", "value"):
            lin(q + "attention.self." + m, d, d, 0.35)
        lin(q + "attention.output.dense", d, d, 0.2)
        ln(q + "attention.output.LayerNorm")
        lin(q + "intermediate.dense", d, inner, 0.25)
        lin(q + "output.dense", inner, d, 0.15)
        ln(q + "output.LayerNorm")
    lin("cls.predictions.transform.dense", d, d, 0.25)
    ln("cls.predictions.transform.LayerNorm")
    t["cls.predictions.bias"] = n(0.1, vocab)
    config = {
        "architectures": ["BertForMaskedLM"], "hidden_act": "gelu", "hidden_size": d, "intermediate_size": inner,
        "layer_norm_eps": 1e-12, "max_position_embeddings": positions, "model_type": "bert",
        "num_attention_heads": heads, "num_hidden_layers": layers, "pad_token_id": 0,
        "position_embedding_type": "absolute", "type_vocab_size": 2, "vocab_size": vocab,
    }
    return config, t


def deep_models():
    """Several heads and layers: GPT-2 with scale_attn_by_inverse_layer_idx, BERT with padding."""
    cfg, t = random_gpt2(2024, vocab=64, positions=16, d=16, heads=4, layers=3)
    wb = write_model("gpt2-deep", cfg, t)
    mods = [f"transformer.h.{i}.{m}" for i in range(cfg["n_layer"]) for m in ("attn.c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj")]
    lora = make_adapter("gpt2-deep-lora", wb, mods, "conv1d", 4, 8, 77, True, "CAUSAL_LM", "gpt2-deep")
    ids = [[5, 17, 42, 3, 60, 9, 33, 1], [12, 12, 7, 55, 0, 28, 40, 19]]
    save("gpt2-deep", {
        "model": "models/gpt2-deep", "adapter": "adapters/gpt2-deep-lora", "input_ids": ids,
        "heads": cfg["n_head"], "layers": cfg["n_layer"], "output": "logits",
        "shape": [2, len(ids[0]), cfg["vocab_size"]],
        "base": rows(gpt2_forward(cfg, wb, "transformer.", ids, lm_head=True)),
        "adapter_output": rows(gpt2_forward(cfg, wb, "transformer.", ids, lora, lm_head=True)),
        # The same weights with scale_attn_by_inverse_layer_idx off: the flag must change the output.
        "base_unscaled": rows(gpt2_forward(dict(cfg, scale_attn_by_inverse_layer_idx=False), wb, "transformer.", ids, lm_head=True)),
    })

    cfg, t = random_bert(4048, vocab=40, positions=16, d=16, heads=4, layers=2, inner=32)
    wb = write_model("bert-deep", cfg, t)
    mods = [f"bert.encoder.layer.{i}.{m}" for i in range(cfg["num_hidden_layers"]) for m in ("attention.self.query", "attention.self.value", "attention.output.dense", "intermediate.dense")]
    lora = make_adapter("bert-deep-lora", wb, mods, "linear", 4, 4, 88, False, "FEATURE_EXTRACTION", "bert-deep", ["query", "value", "attention.output.dense", "intermediate.dense"])
    # Right padding with pad id 0, as a tokenizer pads a batch; the second sentence has token type 1.
    ids = [[2, 11, 23, 3, 31, 14, 3], [2, 8, 19, 27, 3, 0, 0], [2, 36, 3, 0, 0, 0, 0]]
    types = [[0, 0, 0, 0, 1, 1, 1], [0, 0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0]]
    mask = [[1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 0, 0], [1, 1, 1, 0, 0, 0, 0]]
    h0, l0 = bert_forward(cfg, wb, ids, types, mask)
    h1, l1 = bert_forward(cfg, wb, ids, types, mask, lora)
    save("bert-deep", {
        "model": "models/bert-deep", "adapter": "adapters/bert-deep-lora", "input_ids": ids,
        "token_type_ids": types, "attention_mask": mask, "heads": cfg["num_attention_heads"],
        "layers": cfg["num_hidden_layers"], "hidden_shape": [3, 7, cfg["hidden_size"]],
        "logits_shape": [3, 7, cfg["vocab_size"]],
        "base_hidden": rows(h0), "base_logits": rows(l0),
        "adapter_hidden": rows(h1), "adapter_logits": rows(l1),
    })


def main():
    # GPT2Model (no prefix, no head): last hidden state.
    cfg, wb = load("hf-gpt2-tiny")
    mods = [f"h.{i}.{m}" for i in range(cfg["n_layer"]) for m in ("attn.c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj")]
    lora = make_adapter("gpt2-tiny-lora", wb, mods, "conv1d", 2, 4, 1234, True, "FEATURE_EXTRACTION", "hf-gpt2-tiny")
    ids = [[3, 7, 1, 20, 0, 15], [5, 5, 9, 2, 11, 4]]
    save("gpt2-tiny", {
        "fixture": "hf-gpt2-tiny", "adapter": "adapters/gpt2-tiny-lora", "input_ids": ids,
        "output": "last_hidden_state", "shape": [2, 6, cfg["n_embd"]],
        "base": rows(gpt2_forward(cfg, wb, "", ids)),
        "adapter_output": rows(gpt2_forward(cfg, wb, "", ids, lora)),
        "adapter_output_scale_0.5": rows(gpt2_forward(cfg, wb, "", ids, Lora(lora.factors, lora.scaling * 0.5))),
    })

    # GPT2LMHeadModel ("transformer." prefix, lm_head tied to wte).
    cfg, wb = load("hf-gpt2-lmhead-tiny")
    mods = [f"transformer.h.{i}.{m}" for i in range(cfg["n_layer"]) for m in ("attn.c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj")]
    lora = make_adapter("gpt2-lmhead-tiny-lora", wb, mods, "conv1d", 4, 8, 4321, True, "CAUSAL_LM", "hf-gpt2-lmhead-tiny")
    ids = [[464, 2068, 7586, 21831, 18045, 625, 262, 16931, 3290, 13]]  # "The quick brown fox jumps over the lazy dog."
    cols = [0, 1, 13, 262, 464, 3290, 50256] + list(range(1000, 1016))
    base = gpt2_forward(cfg, wb, "transformer.", ids, lm_head=True)
    adapted = gpt2_forward(cfg, wb, "transformer.", ids, lora, lm_head=True)
    save("gpt2-lmhead-tiny", {
        "fixture": "hf-gpt2-lmhead-tiny", "adapter": "adapters/gpt2-lmhead-tiny-lora", "input_ids": ids,
        "output": "logits", "shape": [1, 10, cfg["vocab_size"]],
        "base": logits_summary(base, cols),
        "adapter_output": logits_summary(adapted, cols),
        "greedy_prompt_ids": ids[0][:4],
        "greedy_base": greedy(cfg, wb, "transformer.", ids[0][:4], 6),
        "greedy_adapter": greedy(cfg, wb, "transformer.", ids[0][:4], 6, lora),
    })

    # BertLMHeadModel: encoder output and prediction logits, with a padding mask and token types.
    cfg, wb = load("hf-bert-tiniest")
    mods = [f"bert.encoder.layer.{i}.{m}" for i in range(cfg["num_hidden_layers"]) for m in ("attention.self.query", "attention.self.value", "intermediate.dense")]
    lora = make_adapter("bert-tiniest-lora", wb, mods, "linear", 2, 2, 999, False, "FEATURE_EXTRACTION", "hf-bert-tiniest")
    ids = [[101, 7592, 2088, 102, 2023, 102], [101, 2307, 102, 0, 0, 0]]
    types = [[0, 0, 0, 0, 1, 1], [0, 0, 0, 0, 0, 0]]
    mask = [[1, 1, 1, 1, 1, 1], [1, 1, 1, 0, 0, 0]]
    cols = [0, 100, 101, 102, 2088, 7592, 30521]
    h0, l0 = bert_forward(cfg, wb, ids, types, mask)
    h1, l1 = bert_forward(cfg, wb, ids, types, mask, lora)
    hp, lp = bert_forward(cfg, wb, ids)
    save("bert-tiniest", {
        "fixture": "hf-bert-tiniest", "adapter": "adapters/bert-tiniest-lora", "input_ids": ids,
        "token_type_ids": types, "attention_mask": mask, "hidden_shape": [2, 6, cfg["hidden_size"]],
        "base_hidden": rows(h0), "base_logits": logits_summary(l0, cols),
        "adapter_hidden": rows(h1), "adapter_logits": logits_summary(l1, cols),
        "plain_hidden": rows(hp), "plain_logits": logits_summary(lp, cols),
    })


if __name__ == "__main__":
    main()
    deep_models()
