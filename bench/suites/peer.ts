/**
 * The peer a Node user would pick for inference instead: onnxruntime-node (CPU), timed beside lowrank
 * (tfjs-wasm) on the same work with the same weights, outputs checked equal before timing. Also what
 * would close the gap: ORT's own threads, and a hybrid that runs the frozen base x·W natively and only
 * the LoRA term in tfjs.
 */
import {
  backendInfo,
  createSyntheticGpt2,
  type Gpt2,
  type KvDecoder,
  kvDecoderFor,
  LoraBatchPlan,
  mixedLinear,
  seededValues,
} from "@lowrank/runtime";
import * as tf from "@tensorflow/tfjs-core";
import * as ort from "onnxruntime-node";
import { type BenchCase, type BenchGroup, defineSuite } from "../harness.js";
import { gpt2DecodeGraph } from "../onnx/gpt2Decode.js";
import { OnnxGraph } from "../onnx/OnnxGraph.js";

const D = 1024;
const R = 16;
const SCALE = 2;
const owned: tf.Tensor[] = [];
const sessions: ort.InferenceSession[] = [];
let model: Gpt2 | undefined;
const decoders: KvDecoder[] = [];

/** The wasm thread count of this run (`LOWRANK_WASM_THREADS`), for the case names. */
const wasmThreads = () => {
  const n = backendInfo()?.threads ?? 1;
  return n === 1 ? "1 thread" : `${n} threads`;
};

const keep = <T extends tf.Tensor>(t: T): T => {
  owned.push(t);
  return t;
};

async function session(bytes: Uint8Array, threads: number): Promise<ort.InferenceSession> {
  const s = await ort.InferenceSession.create(bytes, {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: "all",
  });
  sessions.push(s);
  return s;
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs((a[i] as number) - (b[i] as number)));
  return worst;
}

/** Base + LoRA forward y = x·W + s·(x·A)·B, d=1024, r=16, for `n` rows: lowrank, ORT, hybrid. */
async function loraGroup(
  n: number,
  weights: { W: Float32Array; A: Float32Array; B: Float32Array },
): Promise<BenchGroup> {
  const xData = seededValues(7 + n, n * D, 1);
  const x = keep(tf.tensor2d(xData, [n, D]));
  const W = keep(tf.tensor2d(weights.W, [D, D]));
  const A = keep(tf.tensor2d(weights.A, [D, R]));
  const B = keep(tf.tensor2d(weights.B, [R, D]));
  const lowrank = () => {
    const y = tf.tidy(() => tf.add(tf.matMul(x, W), tf.matMul(tf.mul(tf.matMul(x, A), SCALE), B)));
    const data = y.dataSync() as Float32Array;
    y.dispose();
    return data;
  };
  const g = new OnnxGraph();
  const xi = g.input("x", [n, D]);
  const base = g.op1("MatMul", [xi, g.init("W", [D, D], weights.W)]);
  const lora = g.op1("MatMul", [
    g.op1("Mul", [g.op1("MatMul", [xi, g.init("A", [D, R], weights.A)]), g.init("s", [], Float32Array.of(SCALE))]),
    g.init("B", [R, D], weights.B),
  ]);
  g.op1("Add", [base, lora], {}, "y");
  g.output("y", [n, D]);
  const baseOnly = new OnnxGraph();
  baseOnly.op1("MatMul", [baseOnly.input("x", [n, D]), baseOnly.init("W", [D, D], weights.W)], {}, "y");
  baseOnly.output("y", [n, D]);
  const ort1 = await session(g.toBytes(), 1);
  const ort2 = await session(g.toBytes(), 2);
  const ortBase = await session(baseOnly.toBytes(), 1);
  const feeds = { x: new ort.Tensor("float32", xData, [n, D]) };
  const viaOrt = async (s: ort.InferenceSession) => (await s.run(feeds)).y?.data as Float32Array;
  // Native base, tfjs LoRA term: the frozen x·W in ORT, each row's adapter term in tfjs, then one add.
  const hybrid = async () => {
    const yBase = (await ortBase.run(feeds)).y?.data as Float32Array;
    const y = tf.tidy(() => tf.add(tf.tensor2d(yBase, [n, D]), tf.matMul(tf.mul(tf.matMul(x, A), SCALE), B)));
    const data = y.dataSync() as Float32Array;
    y.dispose();
    return data;
  };
  const ref = lowrank();
  for (const [name, out] of [
    ["onnxruntime", await viaOrt(ort1)],
    ["hybrid", await hybrid()],
  ] as const)
    if (maxDiff(ref, out) > 1e-3)
      throw new Error(`LoRA forward x[${n},${D}]: ${name} differs from lowrank by ${maxDiff(ref, out)}`);
  const flop = (2 * n * D * D + 4 * n * D * R) / 1e9;
  const cases: BenchCase[] = [
    {
      name: `lowrank (tfjs-wasm, ${wasmThreads()})`,
      baseline: true,
      fn: lowrank,
      work: { amount: flop, unit: "GFLOP/s" },
    },
    { name: "onnxruntime-node, 1 thread", fn: () => viaOrt(ort1), work: { amount: flop, unit: "GFLOP/s" } },
    { name: "onnxruntime-node, 2 threads", fn: () => viaOrt(ort2), work: { amount: flop, unit: "GFLOP/s" } },
    {
      name: "hybrid: base x·W in onnxruntime (1 thread), LoRA in tfjs",
      fn: hybrid,
      work: { amount: flop, unit: "GFLOP/s" },
    },
  ];
  return { name: `base + LoRA forward x[${n},${D}], d=${D}, r=${R}`, cases, time: 600 };
}

async function matmulGroup(): Promise<BenchGroup> {
  const n = 1024;
  const a = seededValues(1, n * n, 1);
  const b = seededValues(2, n * n, 0.03);
  const ta = keep(tf.tensor2d(a, [n, n]));
  const tb = keep(tf.tensor2d(b, [n, n]));
  const g = new OnnxGraph();
  g.op1("MatMul", [g.input("a", [n, n]), g.init("b", [n, n], b)], {}, "y");
  g.output("y", [n, n]);
  const s1 = await session(g.toBytes(), 1);
  const feeds = { a: new ort.Tensor("float32", a, [n, n]) };
  const flop = (2 * n * n * n) / 1e9;
  return {
    name: "MatMul 1024³",
    time: 800,
    cases: [
      {
        name: `lowrank (tfjs-wasm, ${wasmThreads()})`,
        baseline: true,
        work: { amount: flop, unit: "GFLOP/s" },
        fn: () => {
          const y = tf.matMul(ta, tb);
          y.dataSync();
          y.dispose();
        },
      },
      { name: "onnxruntime-node, 1 thread", work: { amount: flop, unit: "GFLOP/s" }, fn: () => s1.run(feeds) },
    ],
  };
}

/** One decode step of the synthetic GPT-2 (the serving bench's model) for `batch` sequences after `past` positions. */
async function decodeGroup(m: Gpt2, batch: number, past: number): Promise<BenchGroup> {
  const hp = m.hparams;
  const hd = hp.nEmbd / hp.nHead;
  const per = hp.nHead * past * hd;
  const layers = Array.from({ length: hp.nLayer }, (_, l) => ({
    k: seededValues(100 + l, batch * per, 1),
    v: seededValues(200 + l, batch * per, 1),
  }));
  // The serving path's batch cache: one [batch, heads, past, headDim] tensor per layer for keys and values.
  const cache = {
    keys: layers.map((L) => keep(tf.tensor4d(L.k, [batch, hp.nHead, past, hd]))),
    values: layers.map((L) => keep(tf.tensor4d(L.v, [batch, hp.nHead, past, hd]))),
  };
  const lengths = new Array<number>(batch).fill(past);
  const tokens = Array.from({ length: batch }, (_, i) => (i * 37 + 11) % hp.vocabSize);
  // The serving path's linear: frozen weights, the tied LM head as the decoder keeps it (transposed once).
  const dec = kvDecoderFor(m) as KvDecoder;
  decoders.push(dec);
  const plan = new LoraBatchPlan(tokens.map(() => ({ modules: null, scale: 1 })));
  const lowrank = () => {
    const linear = mixedLinear(m, plan, (name, mod) => dec.weight(name, mod));
    const { output, keys, values } = m.decodeBatch(tokens, cache, lengths, linear);
    const data = output.dataSync() as Float32Array;
    tf.dispose([output, ...keys, ...values]);
    return data;
  };
  const feeds: Record<string, ort.Tensor> = {
    ids: new ort.Tensor("int64", BigInt64Array.from(tokens.map(BigInt)), [batch, 1]),
    pos: new ort.Tensor("int64", BigInt64Array.from(tokens.map(() => BigInt(past))), [batch, 1]),
  };
  layers.forEach((L, l) => {
    feeds[`past_k${l}`] = new ort.Tensor("float32", L.k, [batch, hp.nHead, past, hd]);
    feeds[`past_v${l}`] = new ort.Tensor("float32", L.v, [batch, hp.nHead, past, hd]);
  });
  const bytes = gpt2DecodeGraph(m, batch, past);
  const s1 = await session(bytes, 1);
  const s2 = await session(bytes, 2);
  const viaOrt = async (s: ort.InferenceSession) => (await s.run(feeds)).logits?.data as Float32Array;
  const diff = maxDiff(lowrank(), await viaOrt(s1));
  if (diff > 1e-3) throw new Error(`GPT-2 decode step: onnxruntime logits differ from lowrank by ${diff}`);
  const work = { amount: batch, unit: "rows/s" as const };
  return {
    name: `GPT-2 decode step (d=${hp.nEmbd}, ${hp.nLayer} layers, ${hp.nHead} heads, vocab ${hp.vocabSize}), batch ${batch}, past ${past}`,
    time: 600,
    cases: [
      { name: `lowrank Gpt2.decodeBatch (tfjs-wasm, ${wasmThreads()})`, baseline: true, fn: lowrank, work },
      { name: "onnxruntime-node, 1 thread", fn: () => viaOrt(s1), work },
      { name: "onnxruntime-node, 2 threads", fn: () => viaOrt(s2), work },
    ],
  };
}

export default defineSuite({
  name: "peer",
  backend: "wasm",
  dispose: async () => {
    tf.dispose(owned.splice(0));
    for (const s of sessions.splice(0)) await s.release();
    for (const d of decoders.splice(0)) d.dispose();
    model?.dispose();
    model = undefined;
  },
  groups: async () => {
    const weights = {
      W: seededValues(4, D * D, 0.03),
      A: seededValues(5, D * R, 0.03),
      B: seededValues(6, R * D, 0.03),
    };
    model = createSyntheticGpt2({ vocab: 8192, dim: 256, layers: 4, heads: 4, positions: 256, seed: 7 });
    return [
      await matmulGroup(),
      await loraGroup(64, weights),
      await loraGroup(1, weights),
      await decodeGroup(model, 32, 64),
      await decodeGroup(model, 1, 127),
    ];
  },
});
