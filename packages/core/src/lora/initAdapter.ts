import type { InitLoraWeights } from "../config/LoraConfig.js";
import { CoreError } from "../errors.js";
import { Rng } from "../random.js";
import { truncatedSvd } from "./truncatedSvd.js";

export interface InitialAdapter {
  /** [in, r] row-major. */
  A: Float32Array;
  /** [r, out] row-major. */
  B: Float32Array;
  /** PiSSA only: the base weight [in, out] with the adapter's part taken out (`W - scale·A·B`). */
  residualWeight?: Float32Array;
}

/**
 * Initial A [in,r] and B [r,out] as PEFT makes them (PEFT's lora_A.weight is our Aᵀ, lora_B.weight our Bᵀ):
 * - `true`: A kaiming-uniform with a=√5 over fan_in=`in` (so U(-1/√in, 1/√in), torch's nn.Linear init), B zero;
 *   for embeddings PEFT swaps roles: A zero, B ~ N(0, 1).
 * - `"gaussian"`: A ~ N(0, std 1/r) (PEFT uses std, not variance, 1/r), B zero.
 * - `false`: both random and non-zero (B ~ U(-1/√r, 1/√r)); the adapter changes the output at once (tests).
 * - `"pissa"` / `"pissa_niter_N"`: with `W = U·S·Vᵀ` ([in,out]), A = U_r·√(S_r/scale), B = √(S_r/scale)·V_rᵀ and
 *   the base weight becomes `W - scale·A·B`, so the layer's output is unchanged (exact SVD; niter ignored).
 */
export function initAdapter(opts: {
  init: InitLoraWeights;
  inFeatures: number;
  outFeatures: number;
  r: number;
  scaling: number;
  seed: number;
  embedding?: boolean;
  /** Needed for PiSSA: the base weight [in, out] row-major. */
  weight?: () => Float32Array;
}): InitialAdapter {
  const { init, inFeatures: n, outFeatures: m, r, scaling } = opts;
  const rng = new Rng(opts.seed);
  const bound = 1 / Math.sqrt(n);
  if (init === true) {
    if (opts.embedding) return { A: new Float32Array(n * r), B: rng.fillNormal(r * m, 1) };
    return { A: rng.fillUniform(n * r, -bound, bound), B: new Float32Array(r * m) };
  }
  if (init === "gaussian") return { A: rng.fillNormal(n * r, 1 / r), B: new Float32Array(r * m) };
  if (init === false) {
    const bb = 1 / Math.sqrt(r);
    return { A: rng.fillUniform(n * r, -bound, bound), B: rng.fillUniform(r * m, -bb, bb) };
  }
  if (init === "pissa" || /^pissa_niter_\d+$/.test(init)) {
    if (!opts.weight)
      throw new CoreError(
        "InvalidArgument",
        'init_lora_weights "pissa": expected a base weight to decompose, found none',
      );
    if (r > Math.min(n, m))
      throw new CoreError(
        "InvalidArgument",
        `init_lora_weights "pissa": expected r <= min(in, out) = ${Math.min(n, m)}, found r = ${r}`,
      );
    const W = opts.weight();
    const { U, S, V } = truncatedSvd(W, n, m, r);
    const A = new Float32Array(n * r);
    const B = new Float32Array(r * m);
    for (let c = 0; c < r; c++) {
      const s = Math.sqrt((S[c] as number) / scaling);
      for (let i = 0; i < n; i++) A[i * r + c] = (U[i * r + c] as number) * s;
      for (let j = 0; j < m; j++) B[c * m + j] = (V[j * r + c] as number) * s;
    }
    const residual = new Float32Array(W);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < m; j++) {
        let acc = 0;
        for (let c = 0; c < r; c++) acc += (A[i * r + c] as number) * (B[c * m + j] as number);
        residual[i * m + j] = (W[i * m + j] as number) - scaling * acc;
      }
    return { A, B, residualWeight: residual };
  }
  throw new CoreError(
    "InvalidConfig",
    `LoraConfig.init_lora_weights: expected true, false, "gaussian" or "pissa" to initialize here, found ${JSON.stringify(init)}`,
    { field: "init_lora_weights" },
  );
}
