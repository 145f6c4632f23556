import type { Gpt2 } from "@lowrank/runtime";
import { OnnxGraph } from "./OnnxGraph.js";

/**
 * One GPT-2 decode step as an ONNX graph with the weights of `model`: token ids [b, 1] and positions
 * [b, 1] (int64), past keys and values per layer [b, heads, past, headDim]; outputs logits [b, 1, vocab]
 * and the present keys and values (so no work is dead code). The same math as `Gpt2.decodeRows`.
 */
export function gpt2DecodeGraph(model: Gpt2, batch: number, past: number): Uint8Array {
  const hp = model.hparams;
  const d = hp.nEmbd;
  const H = hp.nHead;
  const hd = d / H;
  const g = new OnnxGraph();
  const w = (name: string) => {
    const v = model.parameters.get(`transformer.${name}`);
    if (!v) throw new Error(`no parameter ${name}`);
    return g.init(name, v.shape, v.dataSync() as Float32Array);
  };
  const ids = g.input("ids", [batch, 1], "int64");
  const pos = g.input("pos", [batch, 1], "int64");
  let h = g.op1("Add", [g.op1("Gather", [w("wte.weight"), ids]), g.op1("Gather", [w("wpe.weight"), pos])]);
  const headsShape = g.ints("heads_shape", [0, 0, H, hd]);
  const mergedShape = g.ints("merged_shape", [0, 0, d]);
  const split = g.ints("split", [d, d, d]);
  const scale = g.init("scale", [], Float32Array.of(hp.scaleAttnWeights ? 1 / Math.sqrt(hd) : 1));
  const ln = (x: string, prefix: string) =>
    g.op1("LayerNormalization", [x, w(`${prefix}.weight`), w(`${prefix}.bias`)], {
      axis: { i: -1 },
      epsilon: { f: hp.layerNormEpsilon },
    });
  const dense = (x: string, m: string) => g.op1("Add", [g.op1("MatMul", [x, w(`${m}.weight`)]), w(`${m}.bias`)]);
  const heads = (x: string) =>
    g.op1("Transpose", [g.op1("Reshape", [x, headsShape])], { perm: { ints: [0, 2, 1, 3] } });
  for (let l = 0; l < hp.nLayer; l++) {
    const p = `h.${l}`;
    const pk = g.input(`past_k${l}`, [batch, H, past, hd]);
    const pv = g.input(`past_v${l}`, [batch, H, past, hd]);
    const [q, k, v] = g.op("Split", [dense(ln(h, `${p}.ln_1`), `${p}.attn.c_attn`), split], { axis: { i: -1 } }, 3) as [
      string,
      string,
      string,
    ];
    const K = g.op1("Concat", [pk, heads(k)], { axis: { i: 2 } }, `present_k${l}`);
    const V = g.op1("Concat", [pv, heads(v)], { axis: { i: 2 } }, `present_v${l}`);
    g.output(K, [batch, H, past + 1, hd]);
    g.output(V, [batch, H, past + 1, hd]);
    const kt = g.op1("Transpose", [K], { perm: { ints: [0, 1, 3, 2] } });
    const probs = g.op1("Softmax", [g.op1("Mul", [g.op1("MatMul", [heads(q), kt]), scale])], { axis: { i: -1 } });
    const o = g.op1("Reshape", [
      g.op1("Transpose", [g.op1("MatMul", [probs, V])], { perm: { ints: [0, 2, 1, 3] } }),
      mergedShape,
    ]);
    h = g.op1("Add", [h, dense(o, `${p}.attn.c_proj`)]);
    const f = g.op1("Gelu", [dense(ln(h, `${p}.ln_2`), `${p}.mlp.c_fc`)], { approximate: { s: "tanh" } });
    h = g.op1("Add", [h, dense(f, `${p}.mlp.c_proj`)]);
  }
  const wte = model.parameters.get("transformer.wte.weight");
  if (!wte) throw new Error("no wte");
  const table = wte.dataSync() as Float32Array;
  const headT = new Float32Array(d * hp.vocabSize);
  for (let t = 0; t < hp.vocabSize; t++)
    for (let j = 0; j < d; j++) headT[j * hp.vocabSize + t] = table[t * d + j] as number;
  g.op1("MatMul", [ln(h, "ln_f"), g.init("lm_head_t", [d, hp.vocabSize], headT)], {}, "logits");
  g.output("logits", [batch, 1, hp.vocabSize]);
  return g.toBytes();
}
