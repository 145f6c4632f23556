// The hand-written ONNX serializer, checked by onnxruntime itself: a tiny graph against hand-computed
// values, and the GPT-2 decode-step graph against lowrank's KV-cached decode (two independent
// implementations of the same math, the peer's kernels on one side and tfjs on the other).
import { createSyntheticGpt2, type KvCache, seededValues } from "@lowrank/runtime";
import * as tf from "@tensorflow/tfjs-core";
import * as ort from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import { gpt2DecodeGraph } from "./gpt2Decode.js";
import { OnnxGraph } from "./OnnxGraph.js";

describe("OnnxGraph", () => {
  it("serializes a model onnxruntime runs: [x]·W scaled, then tanh-GELU, with a symbolic batch dimension", async () => {
    const g = new OnnxGraph();
    const x = g.input("x", ["n", 2]);
    const w = g.init("w", [2, 2], Float32Array.of(1, 2, 3, 4));
    const y = g.op1("Mul", [g.op1("MatMul", [x, w]), g.init("s", [], Float32Array.of(0.5))]);
    g.op1("Gelu", [y], { approximate: { s: "tanh" } }, "y");
    g.output("y", ["n", 2]);
    const s = await ort.InferenceSession.create(g.toBytes());
    const out = await s.run({ x: new ort.Tensor("float32", Float32Array.of(1, 0, -1, 1), [2, 2]) });
    // rows: [1,0]·W·0.5 = [0.5, 1]; [-1,1]·W·0.5 = [1, 1]
    const gelu = (v: number) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));
    const expected = [0.5, 1, 1, 1].map(gelu);
    const got = out.y?.data as Float32Array;
    for (const [i, v] of [...got].entries()) expect(v).toBeCloseTo(expected[i] as number, 5);
    await s.release();
  });

  it("the GPT-2 decode-step graph gives the logits and present keys of Gpt2.decodeRows", async () => {
    const m = createSyntheticGpt2({ vocab: 61, dim: 32, layers: 2, heads: 4, positions: 32, seed: 2 });
    const [batch, past, H, hd] = [3, 5, 4, 8];
    const per = H * past * hd;
    const layers = [0, 1].map((l) => ({
      k: seededValues(10 + l, batch * per, 1),
      v: seededValues(20 + l, batch * per, 1),
    }));
    const caches: KvCache[] = Array.from({ length: batch }, (_, i) => ({
      keys: layers.map((L) => tf.tensor4d(L.k.subarray(i * per, (i + 1) * per), [1, H, past, hd])),
      values: layers.map((L) => tf.tensor4d(L.v.subarray(i * per, (i + 1) * per), [1, H, past, hd])),
      length: past,
    }));
    const tokens = [4, 17, 60];
    const ours = m.decodeRows(tokens, caches, m.linear);
    const feeds: Record<string, ort.Tensor> = {
      ids: new ort.Tensor("int64", BigInt64Array.from(tokens.map(BigInt)), [batch, 1]),
      pos: new ort.Tensor("int64", BigInt64Array.from(tokens.map(() => BigInt(past))), [batch, 1]),
    };
    layers.forEach((L, l) => {
      feeds[`past_k${l}`] = new ort.Tensor("float32", L.k, [batch, H, past, hd]);
      feeds[`past_v${l}`] = new ort.Tensor("float32", L.v, [batch, H, past, hd]);
    });
    const s = await ort.InferenceSession.create(gpt2DecodeGraph(m, batch, past));
    const theirs = await s.run(feeds);
    const close = (a: ArrayLike<number>, b: ArrayLike<number>) => {
      let worst = 0;
      for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs((a[i] as number) - (b[i] as number)));
      return worst;
    };
    expect(close(ours.output.dataSync(), theirs.logits?.data as Float32Array)).toBeLessThan(1e-4);
    const present = tf.concat(
      ours.caches.map((c) => c.keys[1] as tf.Tensor4D),
      0,
    );
    expect(close(present.dataSync(), theirs.present_k1?.data as Float32Array)).toBeLessThan(1e-5);
    tf.dispose([present, ours.output, ...ours.caches.flatMap((c) => [...c.keys, ...c.values])]);
    tf.dispose(caches.flatMap((c) => [...c.keys, ...c.values]));
    await s.release();
    m.dispose();
  });
});
