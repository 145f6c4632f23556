import { Matrix, QrDecomposition, SingularValueDecomposition } from "ml-matrix";
import { CoreError } from "../errors.js";

/** Thin SVD `M = U·diag(S)·Vᵀ`: U [rows, k], S [k] descending, V [cols, k] (row-major), k = min(rows, cols). */
export interface ThinSvd {
  U: Float64Array;
  S: Float64Array;
  V: Float64Array;
  rows: number;
  cols: number;
  k: number;
}

function checkShape(data: ArrayLike<number>, rows: number, cols: number, what: string): void {
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows <= 0 || cols <= 0 || data.length !== rows * cols)
    throw new CoreError(
      "ShapeMismatch",
      `${what}: expected ${rows}×${cols} = ${rows * cols} values (positive integer dims), found ${data.length}`,
    );
}

function toMatrix(data: ArrayLike<number>, rows: number, cols: number): Matrix {
  const m = new Matrix(rows, cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) m.set(i, j, data[i * cols + j] as number);
  return m;
}

/** Thin SVD of a row-major [rows, cols] matrix (ml-matrix's one-sided Jacobi/Golub–Kahan, in doubles). */
export function thinSvd(data: ArrayLike<number>, rows: number, cols: number): ThinSvd {
  checkShape(data, rows, cols, "thinSvd");
  const svd = new SingularValueDecomposition(toMatrix(data, rows, cols), { autoTranspose: true });
  const u = svd.leftSingularVectors;
  const v = svd.rightSingularVectors;
  const d = svd.diagonal;
  const k = Math.min(rows, cols);
  // ml-matrix sorts descending; sort again defensively and keep the vectors paired.
  const order = Array.from({ length: k }, (_, i) => i).sort((a, b) => (d[b] ?? 0) - (d[a] ?? 0));
  const U = new Float64Array(rows * k);
  const V = new Float64Array(cols * k);
  const S = new Float64Array(k);
  order.forEach((src, c) => {
    S[c] = Math.max(0, d[src] ?? 0);
    for (let i = 0; i < rows; i++) U[i * k + c] = u.get(i, src);
    for (let j = 0; j < cols; j++) V[j * k + c] = v.get(j, src);
  });
  return { U, S, V, rows, cols, k };
}

/** Singular values (descending) of a row-major [rows, cols] matrix. */
export function denseSingularValues(data: ArrayLike<number>, rows: number, cols: number): Float64Array {
  return thinSvd(data, rows, cols).S;
}

/** Upper-triangular factor R of `M = Q·R` when rows ≥ cols, else M itself (Q = I): a [min(rows, cols), cols] matrix. */
function triangularFactor(data: ArrayLike<number>, rows: number, cols: number): Matrix {
  const m = toMatrix(data, rows, cols);
  if (rows < cols) return m;
  return new QrDecomposition(m).upperTriangularMatrix.subMatrix(0, cols - 1, 0, cols - 1);
}

/**
 * Singular values of `scale·A·B` with A [n, r], B [r, m] (row-major) without forming the n×m product:
 * with A = Qa·Ra and Bᵀ = Qb·Rb, σ(scale·A·B) = σ(scale·Ra·Rbᵀ), an r×r problem. Length min(n, m, r).
 */
export function lowRankSingularValues(
  A: ArrayLike<number>,
  B: ArrayLike<number>,
  n: number,
  r: number,
  m: number,
  scale = 1,
): Float64Array {
  checkShape(A, n, r, "lowRankSingularValues A");
  checkShape(B, r, m, "lowRankSingularValues B");
  const bt = new Float64Array(m * r);
  for (let i = 0; i < r; i++) for (let j = 0; j < m; j++) bt[j * r + i] = B[i * m + j] as number;
  const ra = triangularFactor(A, n, r);
  const rb = triangularFactor(bt, m, r);
  const core = ra.mmul(rb.transpose()).mul(scale);
  const s = thinSvd(core.to1DArray(), core.rows, core.columns).S;
  return s.slice(0, Math.min(n, m, r)).map(Math.abs);
}
