import { CoreError } from "../errors.js";

/**
 * The smallest k whose top-k singular values keep at least `energy` of Σσ² (the squared Frobenius norm).
 * `sv` must be sorted descending. 0 for an all-zero spectrum.
 */
export function effectiveRank(sv: ArrayLike<number>, energy = 0.9): number {
  if (!(energy > 0 && energy <= 1))
    throw new CoreError("InvalidArgument", `effectiveRank: expected energy in (0, 1], found ${energy}`);
  let total = 0;
  for (let i = 0; i < sv.length; i++) {
    const s = sv[i] as number;
    if (!Number.isFinite(s) || s < 0)
      throw new CoreError("InvalidArgument", `effectiveRank: expected finite non-negative values, found ${s} at ${i}`);
    if (i > 0 && s > (sv[i - 1] as number))
      throw new CoreError(
        "InvalidArgument",
        `effectiveRank: expected descending values, found ${s} after ${sv[i - 1]}`,
      );
    total += s * s;
  }
  if (total === 0) return 0;
  const goal = energy * total * (1 - 1e-12);
  let kept = 0;
  for (let k = 0; k < sv.length; k++) {
    kept += (sv[k] as number) ** 2;
    if (kept >= goal) return k + 1;
  }
  return sv.length;
}

/** Fraction of Σσ² that the top `k` values keep (1 for an all-zero spectrum). */
export function energyKept(sv: ArrayLike<number>, k: number): number {
  let total = 0;
  let kept = 0;
  for (let i = 0; i < sv.length; i++) {
    const e = (sv[i] as number) ** 2;
    total += e;
    if (i < k) kept += e;
  }
  return total === 0 ? 1 : kept / total;
}
