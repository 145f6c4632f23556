import { describe, expect, it } from "vitest";
import { Rng } from "../../random.js";
import { naiveBgmv, naiveLoraLinear, naiveSgmv } from "../naiveLoops.js";
import { bgmvImpl } from "./Bgmv.js";
import { loraLinearImpl } from "./LoraLinear.js";
import { sgmvImpl } from "./Sgmv.js";

// The cpu kernels run these impls, so they are checked here against hand-computed values and against the
// textbook loops of naiveLoops.ts (which the conformance suite uses as every backend's expected values).
describe("cpu LoRA impls, by hand", () => {
  const f = (xs: number[]) => Float32Array.from(xs);

  it("loraLinearImpl: x·W + scale·(x·A)·B + bias", () => {
    // x=[1,2], W=I, A=[1,1]ᵀ, B=[2,3], scale 0.5, bias [10,20]: [1,2] + 0.5·3·[2,3] + [10,20] = [14, 26.5]
    const y = loraLinearImpl(f([1, 2]), f([1, 0, 0, 1]), f([1, 1]), f([2, 3]), 0.5, f([10, 20]), {
      n: 1,
      inF: 2,
      outF: 2,
      r: 1,
    });
    expect(Array.from(y)).toEqual([14, 26.5]);
  });

  it("loraLinearImpl: rank 2, negative scale, two rows", () => {
    // W = [[1,0],[0,1],[1,1]], A = [[1,0],[0,1],[1,-1]], B = [[1,2],[0,1]], scale -2, bias [0.5,-0.5]
    // row [1,-1,2]: x·W = [3,1], x·A = [3,-3], (x·A)·B = [3,3]  -> [3-6+0.5, 1-6-0.5] = [-2.5,-5.5]
    // row [0,0,1]:  x·W = [1,1], x·A = [1,-1], (x·A)·B = [1,1]  -> [1-2+0.5, 1-2-0.5] = [-0.5,-1.5]
    const y = loraLinearImpl(
      f([1, -1, 2, 0, 0, 1]),
      f([1, 0, 0, 1, 1, 1]),
      f([1, 0, 0, 1, 1, -1]),
      f([1, 2, 0, 1]),
      -2,
      f([0.5, -0.5]),
      { n: 2, inF: 3, outF: 2, r: 2 },
    );
    expect(Array.from(y)).toEqual([-2.5, -5.5, -0.5, -1.5]);
  });

  it("loraLinearImpl: a zero input does not hide a non-finite weight (0·Inf is NaN, as in a matrix product)", () => {
    const dims = { n: 1, inF: 2, outF: 2, r: 1 };
    const y = loraLinearImpl(
      f([0, 1]),
      f([Number.POSITIVE_INFINITY, 0, 0, 1]),
      f([1, 1]),
      f([0, 0]),
      1,
      undefined,
      dims,
    );
    expect(Number.isNaN(y[0])).toBe(true);
    expect(y[1]).toBe(1);
    const z = loraLinearImpl(f([1, -1]), f([1, 0, 0, 1]), f([1, 1]), f([Number.NaN, 0]), 1, undefined, dims);
    expect(Number.isNaN(z[0])).toBe(true); // x·A = 0 still multiplies B's NaN
  });

  const As = f([1, 0, 0, 1]); // A0 = [1,0]ᵀ, A1 = [0,1]ᵀ
  const Bs = f([1, 1, 2, -1]); // B0 = [1,1], B1 = [2,-1]

  it("bgmvImpl: each row its own adapter and scale, -1 rows zero", () => {
    const dims = { n: 2, inF: 2, outF: 2, r: 1, k: 2 };
    // row0: 2·(x·A1 = 2)·[2,-1] = [8,-4]; row1: -1·(x·A0 = 3)·[1,1] = [-3,-3]
    expect(Array.from(bgmvImpl(f([1, 2, 3, 4]), As, Bs, Int32Array.from([1, 0]), f([2, -1]), dims))).toEqual([
      8, -4, -3, -3,
    ]);
    expect(Array.from(bgmvImpl(f([1, 2, 3, 4]), As, Bs, Int32Array.from([-1, 0]), f([2, -1]), dims))).toEqual([
      0, 0, -3, -3,
    ]);
  });

  it("bgmvImpl: a rank-1 adapter zero-padded to rank 2 beside a rank-2 one", () => {
    // k=2, inF=2, r=2, outF=1. A0 = [[1,0],[1,0]] (second column padding), B0 = [[3],[0]];
    // A1 = [[1,2],[0,1]], B1 = [[1],[-1]]. x0 = [2,1] with adapter 0: (2+1)·3 = 9;
    // x1 = [1,1] with adapter 1, scale 0.5: x·A1 = [1,3], ·B1 = -2, ·0.5 = -1.
    const y = bgmvImpl(
      f([2, 1, 1, 1]),
      f([1, 0, 1, 0, 1, 2, 0, 1]),
      f([3, 0, 1, -1]),
      Int32Array.from([0, 1]),
      f([1, 0.5]),
      {
        n: 2,
        inF: 2,
        outF: 1,
        r: 2,
        k: 2,
      },
    );
    expect(Array.from(y)).toEqual([9, -1]);
  });

  it("sgmvImpl: unsorted segments, rows outside every segment zero", () => {
    const seg = {
      starts: Int32Array.from([2, 0]),
      ends: Int32Array.from([3, 1]),
      adapters: Int32Array.from([1, 0]),
      scales: f([1, 2]),
    };
    const y = sgmvImpl(f([1, 2, 3, 4, 5, 6]), As, Bs, seg, { n: 3, inF: 2, outF: 2, r: 1, k: 2 });
    expect(Array.from(y)).toEqual([2, 2, 0, 0, 12, -6]);
  });
});

describe("cpu LoRA impls against textbook loops (random shapes)", () => {
  const close = (what: string, a: ArrayLike<number>, e: ArrayLike<number>) => {
    expect(a.length).toBe(e.length);
    const bad: string[] = [];
    for (let i = 0; i < e.length; i++) {
      const d = Math.abs((a[i] as number) - (e[i] as number));
      if (!(d <= 1e-5 * (1 + Math.abs(e[i] as number)))) bad.push(`${what}[${i}]: expected ${e[i]}, found ${a[i]}`);
    }
    expect(bad.slice(0, 5)).toEqual([]);
  };

  it("loraLinearImpl, bgmvImpl and sgmvImpl agree with naiveLoops on 30 random cases", () => {
    const rng = new Rng(2026);
    for (let t = 0; t < 30; t++) {
      const [n, inF, outF, r, k] = [
        1 + (rng.int() % 9),
        1 + (rng.int() % 17),
        1 + (rng.int() % 13),
        1 + (rng.int() % 5),
        1 + (rng.int() % 3),
      ];
      const x = rng.fillUniform(n * inF, -1, 1);
      const W = rng.fillUniform(inF * outF, -1, 1);
      const A = rng.fillUniform(inF * r, -1, 1);
      const B = rng.fillUniform(r * outF, -1, 1);
      const bias = rng.fillUniform(outF, -1, 1);
      const scale = rng.uniform(-2, 2);
      const d = { n, inF, outF, r };
      close(
        `loraLinear #${t}`,
        loraLinearImpl(x, W, A, B, scale, bias, d),
        naiveLoraLinear(x, W, A, B, scale, bias, d),
      );
      const As = rng.fillUniform(k * inF * r, -1, 1);
      const Bs = rng.fillUniform(k * r * outF, -1, 1);
      const idx = Int32Array.from({ length: n }, () => (rng.int() % (k + 1)) - 1);
      const scales = rng.fillUniform(n, -2, 2);
      const g = { ...d, k };
      close(`bgmv #${t}`, bgmvImpl(x, As, Bs, idx, scales, g), naiveBgmv(x, As, Bs, idx, scales, g));
      const cut = rng.int() % (n + 1);
      const seg = {
        starts: Int32Array.from([cut, 0]),
        ends: Int32Array.from([n, cut]),
        adapters: Int32Array.from([k - 1, (rng.int() % (k + 1)) - 1]),
        scales: Float32Array.from([rng.uniform(-2, 2), rng.uniform(-2, 2)]),
      };
      close(`sgmv #${t}`, sgmvImpl(x, As, Bs, seg, g), naiveSgmv(x, As, Bs, seg, g));
    }
  });
});
