import { describe, expect, it } from "vitest";
import { bgmvImpl } from "./Bgmv.js";
import { loraLinearImpl } from "./LoraLinear.js";
import { sgmvImpl } from "./Sgmv.js";

// The pure impls are the conformance suite's reference, so they are checked here against hand-computed values.
describe("LoRA reference impls, by hand", () => {
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
