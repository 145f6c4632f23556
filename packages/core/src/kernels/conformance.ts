/**
 * The LoRA kernel conformance suite, written once and run on every backend (cpu, wasm, webgpu in Node,
 * webgpu in Chromium). Framework-free on purpose: each case throws on a mismatch, so the same cases run
 * under vitest (`describeKernelConformance` in the tests) and inside a browser page. Expected values come
 * from the textbook loops in naiveLoops.ts, not from the cpu kernels' `*Impl` functions, so the cpu backend
 * is checked against code it does not run.
 */
import * as tf from "@tensorflow/tfjs-core";
import { isCoreError } from "../errors.js";
import { Rng } from "../random.js";
import { GATHER_STRATEGIES } from "./composed/Bgmv.js";
import { SEGMENT_STRATEGIES } from "./composed/Sgmv.js";
import { naiveBgmv, naiveLoraLinear, naiveSgmv } from "./naiveLoops.js";
import { LORA_KERNEL_NAMES } from "./names.js";
import { type AdapterListPath, bgmv, bgmvAdapters, loraKernelPath, loraLinear, sgmv } from "./ops.js";
import { registerLoraKernels } from "./registerLoraKernels.js";
import { stackAdapters } from "./stackAdapters.js";

export interface ConformanceCase {
  name: string;
  run: () => Promise<void>;
}

/** Backends with their own LoRA kernels; every other backend runs the composed ops. */
export const BACKENDS_WITH_LORA_KERNELS: readonly string[] = ["cpu", "webgpu"];

export function assertClose(what: string, actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-4): void {
  if (actual.length !== expected.length)
    throw new Error(`${what}: expected ${expected.length} values, found ${actual.length}`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i] as number;
    const e = expected[i] as number;
    if (!(Math.abs(a - e) <= tol * (1 + Math.abs(e))))
      throw new Error(`${what}: element ${i} expected ${e}, found ${a}`);
  }
}

function check(cond: boolean, message: string): void {
  if (!cond) throw new Error(message);
}

async function read(t: tf.Tensor): Promise<Float32Array> {
  const v = (await t.data()) as Float32Array;
  t.dispose();
  return v;
}

/** Plain loops: C [m,n] = op(A)·op(B), A [m,k] (or [k,m] transposed), used for the gradient references. */
function mm(a: Float32Array, b: Float32Array, m: number, k: number, n: number, ta = false, tb = false): Float32Array {
  const c = new Float32Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++)
        s +=
          (ta ? (a[p * m + i] as number) : (a[i * k + p] as number)) *
          (tb ? (b[j * k + p] as number) : (b[p * n + j] as number));
      c[i * n + j] = s;
    }
  return c;
}

interface Gathered {
  x: Float32Array;
  As: Float32Array;
  Bs: Float32Array;
  dims: { n: number; inF: number; outF: number; r: number; k: number };
  ranks: number[];
}

/** Random adapters with mixed ranks, zero-padded to rmax in the flat arrays (what stackAdapters builds). */
function randomGathered(rng: Rng): Gathered {
  const n = 1 + (rng.int() % 12);
  const inF = 1 + (rng.int() % 24);
  const outF = 1 + (rng.int() % 20);
  const k = 1 + (rng.int() % 4);
  const ranks = Array.from({ length: k }, () => 1 + (rng.int() % 6));
  const r = Math.max(...ranks);
  const As = new Float32Array(k * inF * r);
  const Bs = new Float32Array(k * r * outF);
  ranks.forEach((ra, a) => {
    for (let p = 0; p < inF; p++) for (let j = 0; j < ra; j++) As[(a * inF + p) * r + j] = rng.uniform(-1, 1);
    for (let j = 0; j < ra; j++) for (let o = 0; o < outF; o++) Bs[(a * r + j) * outF + o] = rng.uniform(-1, 1);
  });
  return { x: rng.fillUniform(n * inF, -1, 1), As, Bs, dims: { n, inF, outF, r, k }, ranks };
}

function gatheredTensors(g: Gathered) {
  const { n, inF, outF, r, k } = g.dims;
  return { x: tf.tensor2d(g.x, [n, inF]), As: tf.tensor3d(g.As, [k, inF, r]), Bs: tf.tensor3d(g.Bs, [k, r, outF]) };
}

/** Each adapter of `g` as its own A [in, r_a] and B [r_a, out] tensors (its true rank, no padding). */
function adapterList(g: Gathered): Array<{ A: tf.Tensor2D; B: tf.Tensor2D }> {
  const { inF, outF, r } = g.dims;
  return g.ranks.map((ra, a) => {
    const A = new Float32Array(inF * ra);
    const B = new Float32Array(ra * outF);
    for (let p = 0; p < inF; p++) for (let j = 0; j < ra; j++) A[p * ra + j] = g.As[(a * inF + p) * r + j] as number;
    for (let j = 0; j < ra; j++)
      for (let o = 0; o < outF; o++) B[j * outF + o] = g.Bs[(a * r + j) * outF + o] as number;
    return { A: tf.tensor2d(A, [inF, ra]), B: tf.tensor2d(B, [ra, outF]) };
  });
}

const ADAPTER_LIST_PATHS: readonly AdapterListPath[] = ["auto", "kernel", "segmented"];

function disposeAll(ts: Record<string, tf.Tensor>): void {
  for (const t of Object.values(ts)) t.dispose();
}

/** Random non-overlapping segments with gaps, some with adapter -1; scales include negatives and zero. */
function randomSegments(rng: Rng, n: number, k: number) {
  const starts: number[] = [];
  const ends: number[] = [];
  const adapters: number[] = [];
  const scales: number[] = [];
  let row = rng.int() % 2;
  while (row < n) {
    const len = 1 + (rng.int() % 4);
    starts.push(row);
    ends.push(Math.min(n, row + len));
    adapters.push((rng.int() % (k + 1)) - 1);
    scales.push(rng.int() % 5 === 0 ? 0 : rng.uniform(-2, 2));
    row += len + (rng.int() % 2);
  }
  const order = rng.permutation(starts.length); // segments need not be sorted
  const pick = <T>(xs: T[]) => Array.from(order, (i) => xs[i] as T);
  return { starts: pick(starts), ends: pick(ends), adapters: pick(adapters), scales: pick(scales) };
}

/** The conformance cases for the active backend (`backendName` is the backend they are expected to run on). */
export function kernelConformanceCases(backendName: string, { seed = 7, trials = 6 } = {}): ConformanceCase[] {
  const expectKernels = BACKENDS_WITH_LORA_KERNELS.includes(backendName);
  return [
    {
      name: "registerLoraKernels is idempotent and dispatch picks the backend's kernels",
      run: async () => {
        registerLoraKernels();
        check(registerLoraKernels() === 0, "a second registerLoraKernels() call registered something again");
        check(tf.getBackend() === backendName, `expected active backend ${backendName}, found ${tf.getBackend()}`);
        for (const name of LORA_KERNEL_NAMES) {
          const path = loraKernelPath(name);
          check(
            path === (expectKernels ? "kernel" : "composed"),
            `${name} on ${backendName}: expected ${expectKernels ? "kernel" : "composed"}, found ${path}`,
          );
        }
      },
    },
    {
      name: "loraLinear matches textbook loops (random shapes, negative scales, with and without bias)",
      run: async () => {
        const rng = new Rng(seed);
        for (let t = 0; t < trials; t++) {
          const [n, inF, outF, r] = [
            1 + (rng.int() % 10),
            1 + (rng.int() % 24),
            1 + (rng.int() % 20),
            1 + (rng.int() % 8),
          ];
          const d = { n, inF, outF, r };
          const [x, W, A, B, bias] = [n * inF, inF * outF, inF * r, r * outF, outF].map((len) =>
            rng.fillUniform(len, -1, 1),
          ) as Float32Array[];
          const scale = t % 3 === 0 ? -rng.uniform(0.1, 3) : rng.uniform(0, 3);
          const withBias = t % 2 === 0;
          const ts = {
            x: tf.tensor2d(x as Float32Array, [n, inF]),
            W: tf.tensor2d(W as Float32Array, [inF, outF]),
            A: tf.tensor2d(A as Float32Array, [inF, r]),
            B: tf.tensor2d(B as Float32Array, [r, outF]),
            bias: tf.tensor1d(bias as Float32Array),
          };
          const y = await read(loraLinear(ts.x, ts.W, ts.A, ts.B, scale, withBias ? ts.bias : undefined));
          disposeAll(ts);
          assertClose(
            `loraLinear trial ${t} ${JSON.stringify(d)}`,
            y,
            naiveLoraLinear(
              x as Float32Array,
              W as Float32Array,
              A as Float32Array,
              B as Float32Array,
              scale,
              withBias ? bias : undefined,
              d,
            ),
          );
        }
      },
    },
    {
      name: "loraLinear gradients match hand-derived TypedArray loops",
      run: async () => {
        const rng = new Rng(seed + 1);
        const [n, inF, outF, r, s] = [5, 7, 6, 3, -1.5];
        const [x, W, A, B, bias, G] = [n * inF, inF * outF, inF * r, r * outF, outF, n * outF].map((len) =>
          rng.fillUniform(len, -1, 1),
        ) as Float32Array[];
        const ts = [
          tf.tensor2d(x as Float32Array, [n, inF]),
          tf.tensor2d(W as Float32Array, [inF, outF]),
          tf.tensor2d(A as Float32Array, [inF, r]),
          tf.tensor2d(B as Float32Array, [r, outF]),
          tf.tensor1d(bias as Float32Array),
        ];
        const g = tf.tensor2d(G as Float32Array, [n, outF]);
        const f = (xt: tf.Tensor, Wt: tf.Tensor, At: tf.Tensor, Bt: tf.Tensor, bt: tf.Tensor) =>
          tf.sum(
            tf.mul(
              loraLinear(
                xt as tf.Tensor2D,
                Wt as tf.Tensor2D,
                At as tf.Tensor2D,
                Bt as tf.Tensor2D,
                s,
                bt as tf.Tensor1D,
              ),
              g,
            ),
          );
        const grads = tf.grads(f as (...args: tf.Tensor[]) => tf.Tensor)(ts);
        const got = await Promise.all(grads.map(read));
        for (const t of [...ts, g]) t.dispose();
        const [X, Wa, Aa, Ba, Ga] = [x, W, A, B, G] as Float32Array[];
        const dyBt = mm(Ga as Float32Array, Ba as Float32Array, n, outF, r, false, true); // [n, r]
        const xA = mm(X as Float32Array, Aa as Float32Array, n, inF, r); // [n, r]
        const dx = mm(Ga as Float32Array, Wa as Float32Array, n, outF, inF, false, true).map(
          (v, i) => v + s * (mm(dyBt, Aa as Float32Array, n, r, inF, false, true)[i] as number),
        );
        const dW = mm(X as Float32Array, Ga as Float32Array, inF, n, outF, true);
        const dA = mm(X as Float32Array, dyBt, inF, n, r, true).map((v) => v * s);
        const dB = mm(xA, Ga as Float32Array, r, n, outF, true).map((v) => v * s);
        const db = new Float32Array(outF);
        for (let i = 0; i < n; i++)
          for (let o = 0; o < outF; o++) db[o] = (db[o] as number) + ((Ga as Float32Array)[i * outF + o] as number);
        for (const [name, a, e] of [
          ["dx", got[0], dx],
          ["dW", got[1], dW],
          ["dA", got[2], dA],
          ["dB", got[3], dB],
          ["dbias", got[4], db],
        ] as const) {
          assertClose(`loraLinear gradient ${name}`, a as Float32Array, e);
        }
      },
    },
    {
      name: "bgmv matches textbook loops: mixed ranks in one batch, -1 rows, negative scales, every composition",
      run: async () => {
        const rng = new Rng(seed + 2);
        for (let t = 0; t < trials; t++) {
          const g = randomGathered(rng);
          const { n, k } = g.dims;
          const idx = Int32Array.from({ length: n }, () => (rng.int() % (k + 1)) - 1);
          if (t === 0) idx.fill(-1); // a batch of only __base__ rows
          const scales = Float32Array.from({ length: n }, (_, i) =>
            i % 3 === 1 ? -rng.uniform(0.1, 2) : rng.uniform(0, 2),
          );
          const expected = naiveBgmv(g.x, g.As, g.Bs, idx, scales, g.dims);
          const ts = gatheredTensors(g);
          for (const strategy of [undefined, ...GATHER_STRATEGIES]) {
            const y = await read(bgmv(ts.x, ts.As, ts.Bs, idx, scales, strategy ? { strategy } : {}));
            assertClose(
              `bgmv (${strategy ?? "default"}) trial ${t} ${JSON.stringify({ ...g.dims, ranks: g.ranks })}`,
              y,
              expected,
            );
          }
          disposeAll(ts);
        }
      },
    },
    {
      name: "bgmvAdapters matches textbook loops on every path: unpadded mixed ranks, -1 rows, one adapter for some rows, negative and zero scales",
      run: async () => {
        const rng = new Rng(seed + 6);
        for (let t = 0; t < trials; t++) {
          const g = randomGathered(rng);
          const { n, k } = g.dims;
          const idx = Int32Array.from({ length: n }, () => (rng.int() % (k + 1)) - 1);
          if (t === 1) idx.fill(-1);
          if (t === 2) for (let i = 0; i < n; i++) idx[i] = i % 2 ? 0 : -1; // one adapter, some rows without it
          const scales = Float32Array.from({ length: n }, (_, i) =>
            i % 4 === 3 ? 0 : i % 3 === 1 ? -rng.uniform(0.1, 2) : rng.uniform(0.1, 2),
          );
          const expected = naiveBgmv(g.x, g.As, g.Bs, idx, scales, g.dims);
          const x = tf.tensor2d(g.x, [n, g.dims.inF]);
          const adapters = adapterList(g);
          for (const path of ADAPTER_LIST_PATHS) {
            const y = await read(bgmvAdapters(x, adapters, idx, scales, { path }));
            assertClose(
              `bgmvAdapters (${path}) trial ${t} ${JSON.stringify({ ...g.dims, ranks: g.ranks })}`,
              y,
              expected,
            );
          }
          for (const a of adapters) tf.dispose([a.A, a.B]);
          x.dispose();
        }
      },
    },
    {
      name: "sgmv matches textbook loops: unsorted segments with gaps, -1 segments, negative and zero scales, every composition",
      run: async () => {
        const rng = new Rng(seed + 3);
        for (let t = 0; t < trials; t++) {
          const g = randomGathered(rng);
          const seg = randomSegments(rng, g.dims.n, g.dims.k);
          const expected = naiveSgmv(g.x, g.As, g.Bs, seg, g.dims);
          const ts = gatheredTensors(g);
          for (const strategy of [undefined, ...SEGMENT_STRATEGIES]) {
            const y = await read(sgmv(ts.x, ts.As, ts.Bs, seg, seg.scales, strategy ? { strategy } : {}));
            assertClose(
              `sgmv (${strategy ?? "default"}) trial ${t} ${JSON.stringify({ ...g.dims, seg })}`,
              y,
              expected,
            );
          }
          disposeAll(ts);
        }
      },
    },
    {
      name: "stackAdapters zero-pads mixed ranks and bgmv on the stack equals each adapter's own x·A·B",
      run: async () => {
        const rng = new Rng(seed + 4);
        const [inF, outF] = [9, 5];
        const ranks = [1, 4, 2];
        const raw = ranks.map((r) => ({ A: rng.fillUniform(inF * r, -1, 1), B: rng.fillUniform(r * outF, -1, 1), r }));
        const adapters = raw.map(({ A, B, r }) => ({ A: tf.tensor2d(A, [inF, r]), B: tf.tensor2d(B, [r, outF]) }));
        const { As, Bs, rmax } = stackAdapters(adapters);
        check(
          rmax === 4 && As.shape.join() === "3,9,4" && Bs.shape.join() === "3,4,5",
          `stackAdapters shapes: found rmax ${rmax}, As [${As.shape}], Bs [${Bs.shape}]`,
        );
        const x = rng.fillUniform(3 * inF, -1, 1);
        const xt = tf.tensor2d(x, [3, inF]);
        const y = await read(bgmv(xt, As, Bs, [2, 0, 1], [1, 1, -0.5]));
        const expected = new Float32Array(3 * outF);
        [2, 0, 1].forEach((a, i) => {
          const { A, B, r } = raw[a] as { A: Float32Array; B: Float32Array; r: number };
          const row = mm(mm(x.subarray(i * inF, (i + 1) * inF), A, 1, inF, r), B, 1, r, outF);
          expected.set(
            row.map((v) => v * (i === 2 ? -0.5 : 1)),
            i * outF,
          );
        });
        assertClose("bgmv on stacked mixed ranks", y, expected);
        for (const t of [xt, As, Bs, ...adapters.flatMap((a) => [a.A, a.B])]) t.dispose();
      },
    },
    {
      name: "ops validate inputs with typed errors that name the shapes",
      run: async () => {
        const x = tf.zeros([2, 3]) as tf.Tensor2D;
        const As = tf.zeros([2, 3, 4]) as tf.Tensor3D;
        const Bs = tf.zeros([2, 4, 5]) as tf.Tensor3D;
        const W = tf.zeros([4, 5]) as tf.Tensor2D;
        const expectError = (f: () => unknown, code: string, text: string) => {
          let err: unknown;
          try {
            tf.dispose(f() as tf.Tensor);
          } catch (e) {
            err = e;
          }
          check(
            isCoreError(err) && err.code === code && err.message.includes(text),
            `expected CoreError ${code} mentioning "${text}", found ${String(err)}`,
          );
        };
        expectError(
          () => loraLinear(x, W, tf.zeros([3, 2]) as tf.Tensor2D, tf.zeros([2, 5]) as tf.Tensor2D, 1),
          "ShapeMismatch",
          "W of shape [3, out], found [4, 5]",
        );
        expectError(
          () => bgmv(x, As, tf.zeros([2, 3, 5]) as tf.Tensor3D, [0, 1], [1, 1]),
          "ShapeMismatch",
          "Bs of shape [2, 4, out], found [2, 3, 5]",
        );
        expectError(() => bgmv(x, As, Bs, [0], [1, 1]), "ShapeMismatch", "idx of length 2, found 1");
        expectError(() => bgmv(x, As, Bs, [0, 2], [1, 1]), "InvalidArgument", "idx[1] in [-1, 1]");
        expectError(
          () => sgmv(x, As, Bs, { starts: [0, 1], ends: [2, 2], adapters: [0, 1] }, [1, 1]),
          "InvalidArgument",
          "non-overlapping",
        );
        expectError(() => sgmv(x, As, Bs, { starts: [0], ends: [3], adapters: [0] }, [1]), "InvalidArgument", "<= 2");
        tf.dispose([x, As, Bs, W]);
      },
    },
    {
      name: "no tensor leaks across every op and path",
      run: async () => {
        const rng = new Rng(seed + 5);
        const g = randomGathered(rng);
        const ts = gatheredTensors(g);
        const { n, inF, outF, r } = g.dims;
        const W = tf.ones([inF, outF]) as tf.Tensor2D;
        const A = tf.ones([inF, r]) as tf.Tensor2D;
        const B = tf.ones([r, outF]) as tf.Tensor2D;
        const bias = tf.ones([outF]) as tf.Tensor1D;
        const idx = Int32Array.from({ length: n }, (_, i) => (i % (g.dims.k + 1)) - 1);
        const scales = new Float32Array(n).fill(0.5);
        const seg = { starts: [0], ends: [n], adapters: [g.dims.k - 1] };
        const list = adapterList(g);
        const before = tf.memory().numTensors;
        const outs: tf.Tensor[] = [loraLinear(ts.x, W, A, B, 2, bias), loraLinear(ts.x, W, A, B, 0)];
        for (const strategy of [undefined, ...GATHER_STRATEGIES])
          outs.push(bgmv(ts.x, ts.As, ts.Bs, idx, scales, strategy ? { strategy } : {}));
        for (const strategy of [undefined, ...SEGMENT_STRATEGIES])
          outs.push(sgmv(ts.x, ts.As, ts.Bs, seg, [0.5], strategy ? { strategy } : {}));
        for (const path of ADAPTER_LIST_PATHS) outs.push(bgmvAdapters(ts.x, list, idx, scales, { path }));
        const grads = tf.grads((xt: tf.Tensor) => tf.sum(loraLinear(xt as tf.Tensor2D, W, A, B, 1.5, bias)))([ts.x]);
        check(
          tf.memory().numTensors === before + outs.length + grads.length,
          `expected ${outs.length + grads.length} new tensors (the outputs), found ${tf.memory().numTensors - before}`,
        );
        await Promise.all([...outs, ...grads].map(read));
        check(
          tf.memory().numTensors === before,
          `expected ${before} tensors after disposing the outputs, found ${tf.memory().numTensors}`,
        );
        disposeAll({ ...ts, W, A, B, bias });
        for (const a of list) tf.dispose([a.A, a.B]);
      },
    },
  ];
}
