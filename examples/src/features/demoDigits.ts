import type { Stroke } from "./digit.js";

/**
 * Digits drawn as strokes on the playground's 280x280 canvas (22 px pen), with what the committed
 * MNIST demo models answer for them (examples/artifacts/mnist, checked by features.test.ts in Node
 * and by the hub's browser tests on the page's own pixels).
 */
export const DEMO_DIGITS = {
  /** An upright 7: the base says 7. */
  seven: {
    strokes: [
      [
        [80, 60],
        [200, 60],
        [120, 230],
      ],
    ] as Stroke[],
    base: "7",
  },
  /** The same 7 rotated 45° clockwise: the base misreads it, the rotated-45 adapter says 7. */
  sevenRotated: {
    strokes: [
      [
        [110, 40],
        [200, 130],
        [70, 200],
      ],
    ] as Stroke[],
    "mnist-rotated-45": "7",
    notBase: "7",
  },
} as const;

/** The canvas side and pen width the strokes are drawn with. */
export const DEMO_CANVAS = { size: 280, lineWidth: 22 } as const;
