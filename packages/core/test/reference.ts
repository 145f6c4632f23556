// Plain TypedArray reference implementations for tests: independent of tfjs.
import { Rng } from "../src/random.js";

export function matmulRef(a: ArrayLike<number>, b: ArrayLike<number>, n: number, k: number, m: number): Float64Array {
  const out = new Float64Array(n * m);
  for (let i = 0; i < n; i++)
    for (let p = 0; p < k; p++) {
      const av = a[i * k + p] as number;
      for (let j = 0; j < m; j++) out[i * m + j] = (out[i * m + j] as number) + av * (b[p * m + j] as number);
    }
  return out;
}

export function addRef(a: ArrayLike<number>, b: ArrayLike<number>, s = 1): Float64Array {
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = (a[i] as number) + s * (b[i] as number);
  return out;
}

/** x [n, m] + bias [m] per row. */
export function addRowRef(x: ArrayLike<number>, bias: ArrayLike<number>, n: number, m: number): Float64Array {
  const out = new Float64Array(n * m);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < m; j++) out[i * m + j] = (x[i * m + j] as number) + (bias[j] as number);
  return out;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs((a[i] as number) - (b[i] as number)));
  return d;
}

export function randomArray(rng: Rng, n: number, scale = 1): Float32Array {
  return rng.fillUniform(n, -scale, scale);
}

export { Rng };
