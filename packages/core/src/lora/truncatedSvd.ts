import { Matrix, SingularValueDecomposition } from "ml-matrix";

/** Top-`k` SVD of a row-major [rows, cols] matrix: `M ≈ U·diag(S)·Vᵀ`, U [rows,k], V [cols,k] row-major. */
export function truncatedSvd(
  data: ArrayLike<number>,
  rows: number,
  cols: number,
  k: number,
): { U: Float64Array; S: Float64Array; V: Float64Array } {
  const m = new Matrix(rows, cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) m.set(i, j, data[i * cols + j] as number);
  const svd = new SingularValueDecomposition(m, { autoTranspose: true });
  const u = svd.leftSingularVectors;
  const v = svd.rightSingularVectors;
  const d = svd.diagonal;
  const kk = Math.min(k, d.length);
  const U = new Float64Array(rows * k);
  const V = new Float64Array(cols * k);
  const S = new Float64Array(k);
  for (let c = 0; c < kk; c++) {
    S[c] = d[c] as number;
    for (let i = 0; i < rows; i++) U[i * k + c] = u.get(i, c);
    for (let j = 0; j < cols; j++) V[j * k + c] = v.get(j, c);
  }
  return { U, S, V };
}
