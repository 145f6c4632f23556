import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { adapterLinear, baseModelFromBytes, initBackend, peftAdapterFromBytes } from "@lowrank/runtime";
import * as tf from "@tensorflow/tfjs-core";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { mnistRows, mnistSplit } from "../data/mnist.js";
import { DEMO_CANVAS, DEMO_DIGITS, digitPixels, rasterizeStrokes } from "./index.js";

const artifacts = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "artifacts", "mnist");
const read = (p: string) => new Uint8Array(readFileSync(path.join(artifacts, p)));

/** Bounding box and centre of mass of the ink of a 28x28 image. */
function geometry(px: Float32Array) {
  let [x0, y0, x1, y1, m, mx, my] = [28, 28, -1, -1, 0, 0, 0];
  px.forEach((v, i) => {
    if (v <= 0) return;
    const x = i % 28;
    const y = Math.floor(i / 28);
    [x0, y0, x1, y1] = [Math.min(x0, x), Math.min(y0, y), Math.max(x1, x), Math.max(y1, y)];
    m += v;
    mx += v * x;
    my += v * y;
  });
  return { w: x1 - x0 + 1, h: y1 - y0 + 1, cx: mx / m, cy: my / m };
}

describe("digitPixels: a drawing to an MNIST-style 28x28 input", () => {
  it("property: the ink's longer side is 20 pixels, its centre of mass within a pixel of the centre, values in [0, 1]", () => {
    const point = fc.tuple(fc.integer({ min: 20, max: 260 }), fc.integer({ min: 20, max: 260 }));
    fc.assert(
      fc.property(fc.array(point, { minLength: 2, maxLength: 5 }), fc.integer({ min: 8, max: 30 }), (pts, lw) => {
        const px = digitPixels(rasterizeStrokes([pts], 280, lw), 280, 280);
        const g = geometry(px);
        expect(px.every((v) => v >= 0 && v <= 1)).toBe(true);
        expect(Math.max(g.w, g.h)).toBeGreaterThanOrEqual(19);
        expect(Math.max(g.w, g.h)).toBeLessThanOrEqual(21);
        expect(Math.abs(g.cx - 13.5)).toBeLessThanOrEqual(1);
        expect(Math.abs(g.cy - 13.5)).toBeLessThanOrEqual(1);
      }),
      { numRuns: 60 },
    );
  });

  it("an empty drawing is 784 zeros", () => {
    expect(digitPixels(new Float32Array(280 * 280), 280, 280).every((v) => v === 0)).toBe(true);
  });
});

describe("the committed MNIST models on drawn input", () => {
  beforeAll(async () => {
    await initBackend({ backend: "cpu" });
  });

  it("MNIST test digits drawn 10x larger and preprocessed back are read about as well as the originals", () => {
    const n = 300;
    const { test } = mnistSplit(0);
    const { pixels, labels } = mnistRows(test.subarray(0, n));
    const back = new Float32Array(n * 784);
    for (let k = 0; k < n; k++) {
      const digit = pixels.subarray(k * 784, (k + 1) * 784);
      const big = new Float32Array(280 * 280);
      for (let y = 0; y < 280; y++)
        for (let x = 0; x < 280; x++) big[y * 280 + x] = digit[Math.floor(y / 10) * 28 + Math.floor(x / 10)] as number;
      back.set(digitPixels(big, 280, 280), k * 784);
    }
    const model = baseModelFromBytes(read("base/config.json"), read("base/model.safetensors"));
    try {
      const acc = (x: Float32Array) =>
        tf.tidy(() => {
          const hits = tf.equal(tf.argMax(model.forward(tf.tensor2d(x, [n, 784])), -1), tf.tensor1d(labels, "int32"));
          return tf.mean(tf.cast(hits, "float32")).dataSync()[0] as number;
        });
      const original = acc(pixels);
      const redrawn = acc(back);
      expect(original).toBeGreaterThan(0.85);
      // Measured: 98.0% on the originals, 93.0% redrawn (the 10x upscale is blockier than a pen stroke).
      expect(redrawn).toBeGreaterThan(original - 0.08);
    } finally {
      model.dispose();
    }
  });

  it("the base reads the upright 7; on the rotated 7 the base errs and the rotated-45 adapter reads 7", () => {
    const model = baseModelFromBytes(read("base/config.json"), read("base/model.safetensors"));
    const rotated = peftAdapterFromBytes(
      "mnist-rotated-45",
      read("adapters/mnist-rotated-45/adapter_config.json"),
      read("adapters/mnist-rotated-45/adapter_model.safetensors"),
    );
    try {
      const answer = (strokes: (typeof DEMO_DIGITS)["seven"]["strokes"], linear = model.linear) => {
        const px = digitPixels(rasterizeStrokes(strokes, DEMO_CANVAS.size, DEMO_CANVAS.lineWidth), 280, 280);
        return tf.tidy(() => String(tf.argMax(model.forward(tf.tensor2d(px, [1, 784]), linear), -1).dataSync()[0]));
      };
      expect(answer(DEMO_DIGITS.seven.strokes)).toBe(DEMO_DIGITS.seven.base);
      const r = DEMO_DIGITS.sevenRotated;
      expect(answer(r.strokes, adapterLinear(model, rotated, 1))).toBe(r["mnist-rotated-45"]);
      expect(answer(r.strokes)).not.toBe(r.notBase);
    } finally {
      model.dispose();
      for (const m of rotated.modules.values()) tf.dispose([m.a, m.b]);
    }
  });
});
