/**
 * Textbook loops for the LoRA kernels' expected values, written apart from the cpu kernels' `*Impl`
 * functions (which the cpu backend runs) so that the conformance suite checks every backend, cpu
 * included, against code it does not share: plain triple-loop matrix products in float64, the low-rank
 * term formed as (x·A)·B, and each row's adapter looked up from the index or segment list first.
 */

/** C [m, n] = A [m, k] · B [k, n], row-major, accumulated in float64. */
export function matmulLoops(a: ArrayLike<number>, b: ArrayLike<number>, m: number, k: number, n: number): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += (a[i * k + p] as number) * (b[p * n + j] as number);
      c[i * n + j] = s;
    }
  return c;
}

/** y = x·W + scale·(x·A)·B (+ bias) for x [n, inF], W [inF, outF], A [inF, r], B [r, outF]. */
export function naiveLoraLinear(
  x: ArrayLike<number>,
  W: ArrayLike<number>,
  A: ArrayLike<number>,
  B: ArrayLike<number>,
  scale: number,
  bias: ArrayLike<number> | undefined,
  { n, inF, outF, r }: { n: number; inF: number; outF: number; r: number },
): Float64Array {
  const base = matmulLoops(x, W, n, inF, outF);
  const low = matmulLoops(matmulLoops(x, A, n, inF, r), B, n, r, outF);
  return base.map((v, i) => v + scale * (low[i] as number) + (bias ? (bias[i % outF] as number) : 0));
}

/** One row's low-rank term scale·x_i·As[a]·Bs[a] (As [k, inF, r], Bs [k, r, outF]). */
function rowDelta(
  x: ArrayLike<number>,
  As: ArrayLike<number>,
  Bs: ArrayLike<number>,
  i: number,
  a: number,
  scale: number,
  { inF, outF, r }: { inF: number; outF: number; r: number },
): Float64Array {
  const xi = Array.from({ length: inF }, (_, p) => x[i * inF + p] as number);
  const Aa = Array.from({ length: inF * r }, (_, q) => As[a * inF * r + q] as number);
  const Ba = Array.from({ length: r * outF }, (_, q) => Bs[a * r * outF + q] as number);
  return matmulLoops(matmulLoops(xi, Aa, 1, inF, r), Ba, 1, r, outF).map((v) => v * scale);
}

/** Row i = scales[i]·x_i·As[idx[i]]·Bs[idx[i]]; rows with idx -1 are zero. */
export function naiveBgmv(
  x: ArrayLike<number>,
  As: ArrayLike<number>,
  Bs: ArrayLike<number>,
  idx: ArrayLike<number>,
  scales: ArrayLike<number>,
  dims: { n: number; inF: number; outF: number; r: number },
): Float64Array {
  const y = new Float64Array(dims.n * dims.outF);
  for (let i = 0; i < dims.n; i++) {
    const a = idx[i] as number;
    if (a >= 0) y.set(rowDelta(x, As, Bs, i, a, scales[i] as number, dims), i * dims.outF);
  }
  return y;
}

/**
 * Rows of segment s ([starts[s], ends[s])) get scales[s]·x·As[adapters[s]]·Bs[adapters[s]]; rows in no
 * segment, or in a segment with adapter -1, are zero. Built as a per-row table first, then {@link naiveBgmv}.
 */
export function naiveSgmv(
  x: ArrayLike<number>,
  As: ArrayLike<number>,
  Bs: ArrayLike<number>,
  seg: { starts: ArrayLike<number>; ends: ArrayLike<number>; adapters: ArrayLike<number>; scales: ArrayLike<number> },
  dims: { n: number; inF: number; outF: number; r: number },
): Float64Array {
  const idx = new Array<number>(dims.n).fill(-1);
  const scales = new Array<number>(dims.n).fill(0);
  for (let s = 0; s < seg.starts.length; s++)
    for (let i = seg.starts[s] as number; i < (seg.ends[s] as number); i++) {
      idx[i] = seg.adapters[s] as number;
      scales[i] = seg.scales[s] as number;
    }
  return naiveBgmv(x, As, Bs, idx, scales, dims);
}
