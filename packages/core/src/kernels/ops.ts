import * as tf from "@tensorflow/tfjs-core";
import { CoreError } from "../errors.js";
import { bgmvComposed, type GatherStrategy } from "./composed/Bgmv.js";
import { type AdapterPair, bgmvSegmented } from "./composed/BgmvSegmented.js";
import { loraLinearComposed } from "./composed/LoraLinear.js";
import { type SegmentStrategy, sgmvComposed } from "./composed/Sgmv.js";
import type { SegmentArrays } from "./cpu/Sgmv.js";
import { LORA_BGMV, LORA_LINEAR, LORA_SGMV, type LoraKernelName } from "./names.js";
import { stackAdapters } from "./stackAdapters.js";

type IntInput = Int32Array | readonly number[] | tf.Tensor1D;
type FloatInput = Float32Array | readonly number[] | tf.Tensor1D;

/** Row segments for sgmv: rows [starts[s], ends[s]) use adapter `adapters[s]` (-1 = none). */
export interface Segments {
  starts: IntInput;
  ends: IntInput;
  adapters: IntInput;
}

export interface GatherOptions {
  /** Force a composition (otherwise the registered kernel of the active backend, else the measured default). */
  strategy?: GatherStrategy;
}
export interface SegmentOptions {
  strategy?: SegmentStrategy;
}

/**
 * Compositions used where the active backend has no LoRA kernel. Measured on wasm (bench/suites/kernels.ts,
 * d=1024, r=16, k=4, 2-core machine): onehot beats the others at n = 8, 64 and 512 rows — bgmv n=64:
 * onehot 0.81 ms, grouped 5.0 ms, gather 79 ms; sgmv n=64: onehot 0.81 ms, segments 0.95 ms, grouped
 * 4.8 ms. Its flops grow with k (all adapters are applied, then masked), so re-measure for many adapters.
 */
export const DEFAULT_STRATEGY: { bgmv: GatherStrategy; sgmv: SegmentStrategy } = { bgmv: "onehot", sgmv: "onehot" };

/**
 * How `bgmvAdapters` runs on a list of adapters: `kernel` stacks them (zero-padded to the largest rank) and
 * runs `bgmv` (the backend's registered kernel, else its measured composition); `segmented` runs each
 * adapter's own A and B on its own rows (composed/BgmvSegmented.ts); `auto` is `kernel` where the active
 * backend registers LoraBgmv and `DEFAULT_ADAPTER_LIST_PATH` elsewhere.
 */
export type AdapterListPath = "auto" | "kernel" | "segmented";

/**
 * Where no LoRA kernel is registered (wasm), the measured faster way for a list of adapters
 * (bench/suites/kernels.ts, "bgmv over an adapter list", d=1024, r=16, k=4, 2-core machine): segmented
 * 0.14 / 0.30 / 8.5 ms against 0.62 / 1.2 / 14.8 ms for stacking + the onehot composition at n = 8, 64, 512
 * rows, which pays the per-batch stack and padding copies and k times the flops.
 */
export const DEFAULT_ADAPTER_LIST_PATH: Exclude<AdapterListPath, "auto"> = "segmented";

export interface AdapterListOptions {
  path?: AdapterListPath;
  /** For the `kernel` path: force a bgmv composition. */
  strategy?: GatherStrategy;
}

/** Whether `name` runs as a registered kernel on the active backend ("kernel") or as composed ops. */
export function loraKernelPath(name: LoraKernelName): "kernel" | "composed" {
  return tf.getKernel(name, tf.getBackend()) ? "kernel" : "composed";
}

function fail(code: "ShapeMismatch" | "InvalidArgument", op: string, message: string): never {
  throw new CoreError(code, `${op}: ${message}`, { op });
}

function expectShape(op: string, name: string, t: tf.Tensor, expected: Array<number | string>): void {
  const ok = t.rank === expected.length && expected.every((d, i) => typeof d === "string" || d === t.shape[i]);
  if (!ok)
    fail("ShapeMismatch", op, `expected ${name} of shape [${expected.join(", ")}], found [${t.shape.join(", ")}]`);
}

function expectFloat(op: string, name: string, t: tf.Tensor): void {
  if (t.dtype !== "float32") fail("InvalidArgument", op, `expected ${name} to be float32, found ${t.dtype}`);
}

function hostInts(op: string, name: string, v: IntInput, length: number): Int32Array {
  const arr = v instanceof tf.Tensor ? v.dataSync() : v;
  if (arr.length !== length) fail("ShapeMismatch", op, `expected ${name} of length ${length}, found ${arr.length}`);
  const out = Int32Array.from(arr as ArrayLike<number>);
  out.forEach((x, i) => {
    if (x !== (arr as ArrayLike<number>)[i])
      fail("InvalidArgument", op, `expected integer ${name}[${i}], found ${(arr as ArrayLike<number>)[i]}`);
  });
  return out;
}

function hostFloats(op: string, name: string, v: FloatInput, length: number): Float32Array {
  const arr = v instanceof tf.Tensor ? v.dataSync() : v;
  if (arr.length !== length) fail("ShapeMismatch", op, `expected ${name} of length ${length}, found ${arr.length}`);
  return Float32Array.from(arr as ArrayLike<number>);
}

/** Fused LoRA linear: x [n,in]·W [in,out] + scale·(x·A [in,r])·B [r,out] (+ bias [out]). Differentiable. */
export function loraLinear(
  x: tf.Tensor2D,
  W: tf.Tensor2D,
  A: tf.Tensor2D,
  B: tf.Tensor2D,
  scale: number,
  bias?: tf.Tensor1D,
): tf.Tensor2D {
  const op = "loraLinear";
  expectShape(op, "x", x, ["n", "in"]);
  const [n, inF] = x.shape;
  expectShape(op, "W", W, [inF, "out"]);
  const outF = W.shape[1];
  expectShape(op, "A", A, [inF, "r"]);
  expectShape(op, "B", B, [A.shape[1], outF]);
  if (bias) expectShape(op, "bias", bias, [outF]);
  for (const [name, t] of [["x", x], ["W", W], ["A", A], ["B", B], ...(bias ? [["bias", bias] as const] : [])] as const)
    expectFloat(op, name, t);
  if (!Number.isFinite(scale)) fail("InvalidArgument", op, `expected a finite scale, found ${scale}`);
  if (n === 0 || outF === 0) return tf.zeros([n, outF]);
  if (loraKernelPath(LORA_LINEAR) === "kernel") {
    const inputs: tf.NamedTensorMap = bias ? { x, W, A, B, bias } : { x, W, A, B };
    return tf.engine().runKernel(LORA_LINEAR, inputs, { scale }) as tf.Tensor2D;
  }
  return loraLinearComposed(x, W, A, B, scale, bias);
}

function checkStacks(
  op: string,
  x: tf.Tensor2D,
  As: tf.Tensor3D,
  Bs: tf.Tensor3D,
): { n: number; k: number; outF: number } {
  expectShape(op, "x", x, ["n", "in"]);
  expectShape(op, "As", As, ["k", x.shape[1], "rmax"]);
  expectShape(op, "Bs", Bs, [As.shape[0], As.shape[2], "out"]);
  for (const [name, t] of [
    ["x", x],
    ["As", As],
    ["Bs", Bs],
  ] as const)
    expectFloat(op, name, t);
  return { n: x.shape[0], k: As.shape[0], outF: Bs.shape[2] };
}

function checkAdapter(op: string, name: string, a: number, i: number, k: number): void {
  if (a < -1 || a >= k)
    fail("InvalidArgument", op, `expected ${name}[${i}] in [-1, ${k - 1}] (-1 = no adapter), found ${a}`);
}

/**
 * Batched gather LoRA (each row its own adapter): row i = scales[i]·x_i·As[idx[i]]·Bs[idx[i]], zero where
 * idx[i] = -1. Adapters of different ranks are zero-padded to rmax (see stackAdapters). Not differentiable.
 */
export function bgmv(
  x: tf.Tensor2D,
  As: tf.Tensor3D,
  Bs: tf.Tensor3D,
  idx: IntInput,
  scales: FloatInput,
  options: GatherOptions = {},
): tf.Tensor2D {
  const op = "bgmv";
  const { n, k, outF } = checkStacks(op, x, As, Bs);
  const rowIdx = hostInts(op, "idx", idx, n);
  const rowScales = hostFloats(op, "scales", scales, n);
  rowIdx.forEach((a, i) => {
    checkAdapter(op, "idx", a, i, k);
    if (a < 0 || rowScales[i] === 0) {
      rowIdx[i] = -1;
      rowScales[i] = 0;
    }
  });
  if (n === 0 || k === 0 || outF === 0) return tf.zeros([n, outF]);
  if (!options.strategy && loraKernelPath(LORA_BGMV) === "kernel") {
    return tf.tidy(() => {
      const inputs = { x, As, Bs, idx: tf.tensor1d(rowIdx, "int32"), scales: tf.tensor1d(rowScales, "float32") };
      return tf.engine().runKernel(LORA_BGMV, inputs, {}) as tf.Tensor2D;
    });
  }
  return bgmvComposed(x, As, Bs, { idx: rowIdx, scales: rowScales }, options.strategy ?? DEFAULT_STRATEGY.bgmv);
}

/**
 * Segmented gather LoRA: rows [starts[s], ends[s]) all use adapter adapters[s] with scale scales[s];
 * rows in no segment (and segments with adapter -1) get zero. Segments must not overlap.
 */
export function sgmv(
  x: tf.Tensor2D,
  As: tf.Tensor3D,
  Bs: tf.Tensor3D,
  segments: Segments,
  scales: FloatInput,
  options: SegmentOptions = {},
): tf.Tensor2D {
  const op = "sgmv";
  const { n, k, outF } = checkStacks(op, x, As, Bs);
  const s = segments.starts instanceof tf.Tensor ? segments.starts.size : segments.starts.length;
  const seg: SegmentArrays = {
    starts: hostInts(op, "segments.starts", segments.starts, s),
    ends: hostInts(op, "segments.ends", segments.ends, s),
    adapters: hostInts(op, "segments.adapters", segments.adapters, s),
    scales: hostFloats(op, "scales", scales, s),
  };
  const covered = new Uint8Array(n);
  for (let g = 0; g < s; g++) {
    const start = seg.starts[g] as number;
    const end = seg.ends[g] as number;
    if (start < 0 || end < start || end > n)
      fail("InvalidArgument", op, `expected 0 <= starts[${g}] <= ends[${g}] <= ${n}, found [${start}, ${end})`);
    checkAdapter(op, "segments.adapters", seg.adapters[g] as number, g, k);
    for (let i = start; i < end; i++) {
      if (covered[i])
        fail(
          "InvalidArgument",
          op,
          `expected non-overlapping segments, found row ${i} in more than one (segment ${g})`,
        );
      covered[i] = 1;
    }
  }
  if (n === 0 || k === 0 || outF === 0 || s === 0) return tf.zeros([n, outF]);
  if (!options.strategy && loraKernelPath(LORA_SGMV) === "kernel") {
    return tf.tidy(() => {
      const inputs = {
        x,
        As,
        Bs,
        starts: tf.tensor1d(seg.starts, "int32"),
        ends: tf.tensor1d(seg.ends, "int32"),
        adapters: tf.tensor1d(seg.adapters, "int32"),
        scales: tf.tensor1d(seg.scales, "float32"),
      };
      return tf.engine().runKernel(LORA_SGMV, inputs, {}) as tf.Tensor2D;
    });
  }
  return sgmvComposed(x, As, Bs, seg, options.strategy ?? DEFAULT_STRATEGY.sgmv);
}

/**
 * Gathered LoRA over a list of adapters of any ranks (each A [in, r_a], B [r_a, out]): row i =
 * scales[i]·x_i·A[idx[i]]·B[idx[i]], zero where idx[i] = -1 or the scale is 0. Chooses its implementation
 * by `options.path` (see `AdapterListPath`). Not differentiable.
 */
export function bgmvAdapters(
  x: tf.Tensor2D,
  adapters: readonly AdapterPair[],
  idx: IntInput,
  scales: FloatInput,
  options: AdapterListOptions = {},
): tf.Tensor2D {
  const op = "bgmvAdapters";
  expectShape(op, "x", x, ["n", "in"]);
  expectFloat(op, "x", x);
  const [n, inF] = x.shape;
  if (adapters.length === 0) fail("InvalidArgument", op, "expected at least one adapter, found none");
  const outF = (adapters[0] as AdapterPair).B.shape[1] as number;
  adapters.forEach(({ A, B }, a) => {
    expectShape(op, `adapters[${a}].A`, A, [inF, "r"]);
    expectShape(op, `adapters[${a}].B`, B, [A.shape[1], outF]);
    expectFloat(op, `adapters[${a}].A`, A);
    expectFloat(op, `adapters[${a}].B`, B);
  });
  const rowIdx = hostInts(op, "idx", idx, n);
  const rowScales = hostFloats(op, "scales", scales, n);
  rowIdx.forEach((a, i) => {
    checkAdapter(op, "idx", a, i, adapters.length);
    if (!Number.isFinite(rowScales[i]))
      fail("InvalidArgument", op, `expected a finite scales[${i}], found ${rowScales[i]}`);
    if (a < 0 || rowScales[i] === 0) {
      rowIdx[i] = -1;
      rowScales[i] = 0;
    }
  });
  const path =
    options.path === undefined || options.path === "auto"
      ? loraKernelPath(LORA_BGMV) === "kernel"
        ? "kernel"
        : DEFAULT_ADAPTER_LIST_PATH
      : options.path;
  if (n === 0 || outF === 0 || !rowIdx.some((a) => a >= 0)) return tf.zeros([n, outF]);
  if (path === "segmented") return bgmvSegmented(x, adapters, rowIdx, rowScales);
  return tf.tidy(() => {
    const { As, Bs } = stackAdapters(adapters);
    return bgmv(x, As, Bs, rowIdx, rowScales, options.strategy ? { strategy: options.strategy } : {});
  });
}
