import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { matmulRef, maxAbsDiff, Rng } from "../../test/reference.js";
import { denseSingularValues, lowRankSingularValues, thinSvd } from "./svd.js";

/** U·diag(S)·Vᵀ with only the first `k` terms. */
function reconstruct(svd: ReturnType<typeof thinSvd>, k: number): Float64Array {
  const out = new Float64Array(svd.rows * svd.cols);
  for (let i = 0; i < svd.rows; i++)
    for (let j = 0; j < svd.cols; j++) {
      let v = 0;
      for (let c = 0; c < k; c++)
        v += (svd.U[i * svd.k + c] as number) * (svd.S[c] as number) * (svd.V[j * svd.k + c] as number);
      out[i * svd.cols + j] = v;
    }
  return out;
}

/** Max |XᵀX − I| for X [n, k] row-major. */
function orthoError(x: Float64Array, n: number, k: number): number {
  let e = 0;
  for (let a = 0; a < k; a++)
    for (let b = 0; b < k; b++) {
      let d = 0;
      for (let i = 0; i < n; i++) d += (x[i * k + a] as number) * (x[i * k + b] as number);
      e = Math.max(e, Math.abs(d - (a === b ? 1 : 0)));
    }
  return e;
}

describe("thinSvd", () => {
  it("hand-computed cases", () => {
    expect([...denseSingularValues([3, 0, 0, 4], 2, 2)]).toEqual([4, 3].map((v) => expect.closeTo(v, 12)));
    // [[3,2,2],[2,3,-2]]: MMᵀ = [[17,8],[8,17]], eigenvalues 25 and 9.
    const s = denseSingularValues([3, 2, 2, 2, 3, -2], 2, 3);
    expect(s[0]).toBeCloseTo(5, 12);
    expect(s[1]).toBeCloseTo(3, 12);
    // Rank one: all-ones 2×2 has σ = (2, 0).
    const ones = denseSingularValues([1, 1, 1, 1], 2, 2);
    expect(ones[0]).toBeCloseTo(2, 12);
    expect(ones[1]).toBeCloseTo(0, 12);
    // A column vector: σ = its norm.
    expect(denseSingularValues([3, 4], 2, 1)[0]).toBeCloseTo(5, 12);
  });

  it("randomized shapes: U·S·Vᵀ = M, orthonormal factors, Σσ² = ‖M‖², Eckart–Young tail error", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 12 }),
        fc.integer(),
        (rows, cols, seed) => {
          const rng = new Rng(seed);
          const m = Float64Array.from(rng.fillNormal(rows * cols, 1));
          const svd = thinSvd(m, rows, cols);
          expect(svd.k).toBe(Math.min(rows, cols));
          expect(maxAbsDiff(reconstruct(svd, svd.k), m)).toBeLessThan(1e-10);
          expect(orthoError(svd.U, rows, svd.k)).toBeLessThan(1e-10);
          expect(orthoError(svd.V, cols, svd.k)).toBeLessThan(1e-10);
          let fro2 = 0;
          for (const v of m) fro2 += v * v;
          expect(svd.S.reduce((a, s) => a + s * s, 0)).toBeCloseTo(fro2, 8);
          for (let i = 1; i < svd.k; i++) expect(svd.S[i]).toBeLessThanOrEqual(svd.S[i - 1] as number);
          for (let k = 0; k <= svd.k; k++) {
            const approx = reconstruct(svd, k);
            let err2 = 0;
            for (let i = 0; i < m.length; i++) err2 += ((m[i] as number) - (approx[i] as number)) ** 2;
            const tail = svd.S.slice(k).reduce((a, s) => a + s * s, 0);
            expect(Math.sqrt(err2)).toBeCloseTo(Math.sqrt(tail), 8);
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it("rejects data that does not fit the shape", () => {
    expect(() => thinSvd([1, 2, 3], 2, 2)).toThrow(expect.objectContaining({ code: "ShapeMismatch" }));
  });
});

describe("lowRankSingularValues", () => {
  it("equals the dense SVD of scale·A·B (tall, wide, r larger than a side)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 14 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 14 }),
        fc.integer(),
        (n, r, m, seed) => {
          const rng = new Rng(seed);
          const A = rng.fillNormal(n * r, 1);
          const B = rng.fillNormal(r * m, 1);
          const dense = denseSingularValues(
            matmulRef(A, B, n, r, m).map((v) => v * 0.5),
            n,
            m,
          );
          const low = lowRankSingularValues(A, B, n, r, m, 0.5);
          expect(low.length).toBe(Math.min(n, m, r));
          for (let i = 0; i < low.length; i++) expect(low[i]).toBeCloseTo(dense[i] as number, 8);
          for (let i = low.length; i < dense.length; i++) expect(dense[i]).toBeCloseTo(0, 8);
        },
      ),
      { numRuns: 40 },
    );
  });

  it("hand case: A = [1; 0], B = [3 4] -> σ = 5·scale", () => {
    expect(lowRankSingularValues([1, 0], [3, 4], 2, 1, 2, 2)[0]).toBeCloseTo(10, 12);
  });
});
