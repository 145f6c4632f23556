// Browser-safe: a drawn digit to the 28x28 input MNIST digits are, used by the hub's playground canvas
// and by the tests that pick strokes in Node.

export const DIGIT_SIDE = 28;
/** MNIST fits each digit's bounding box into 20x20 (aspect kept), then centres it by mass in 28x28. */
const BOX = 20;

/**
 * MNIST-style preprocessing of a grayscale image (`width * height` values in [0, 1], row-major, ink
 * high): crop to the ink's bounding box, scale it (aspect kept, area-averaged) so its longer side is 20
 * pixels, place it in 28x28 so its centre of mass sits at the centre, clamp to [0, 1]. An image with no
 * ink gives 784 zeros.
 */
export function digitPixels(gray: ArrayLike<number>, width: number, height: number, threshold = 0.05): Float32Array {
  let x0 = width;
  let y0 = height;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      if ((gray[y * width + x] as number) > threshold) {
        x0 = Math.min(x0, x);
        x1 = Math.max(x1, x);
        y0 = Math.min(y0, y);
        y1 = Math.max(y1, y);
      }
  const out = new Float32Array(DIGIT_SIDE * DIGIT_SIDE);
  if (x1 < 0) return out;
  const bw = x1 - x0 + 1;
  const bh = y1 - y0 + 1;
  const scale = BOX / Math.max(bw, bh);
  const sw = Math.max(1, Math.round(bw * scale));
  const sh = Math.max(1, Math.round(bh * scale));
  // Area-average the box into sw x sh: each target pixel is the mean of the source area it covers.
  const small = new Float32Array(sw * sh);
  for (let ty = 0; ty < sh; ty++)
    for (let tx = 0; tx < sw; tx++) {
      const sx0 = x0 + (tx * bw) / sw;
      const sx1 = x0 + ((tx + 1) * bw) / sw;
      const sy0 = y0 + (ty * bh) / sh;
      const sy1 = y0 + ((ty + 1) * bh) / sh;
      let sum = 0;
      let area = 0;
      for (let y = Math.floor(sy0); y < Math.ceil(sy1); y++) {
        const wy = Math.min(sy1, y + 1) - Math.max(sy0, y);
        for (let x = Math.floor(sx0); x < Math.ceil(sx1); x++) {
          const w = wy * (Math.min(sx1, x + 1) - Math.max(sx0, x));
          sum += w * (gray[y * width + x] as number);
          area += w;
        }
      }
      small[ty * sw + tx] = area > 0 ? sum / area : 0;
    }
  let mass = 0;
  let mx = 0;
  let my = 0;
  for (let y = 0; y < sh; y++)
    for (let x = 0; x < sw; x++) {
      const v = small[y * sw + x] as number;
      mass += v;
      mx += v * x;
      my += v * y;
    }
  const c = (DIGIT_SIDE - 1) / 2;
  const ox = Math.round(c - (mass > 0 ? mx / mass : (sw - 1) / 2));
  const oy = Math.round(c - (mass > 0 ? my / mass : (sh - 1) / 2));
  for (let y = 0; y < sh; y++)
    for (let x = 0; x < sw; x++) {
      const X = x + ox;
      const Y = y + oy;
      if (X >= 0 && Y >= 0 && X < DIGIT_SIDE && Y < DIGIT_SIDE)
        out[Y * DIGIT_SIDE + X] = Math.min(1, Math.max(0, small[y * sw + x] as number));
    }
  return out;
}

/** A stroke: points in canvas pixels, drawn as a line of `width` with round caps and joins. */
export type Stroke = ReadonlyArray<readonly [number, number]>;

/**
 * Rasterizes strokes into a `size` x `size` grayscale image (ink 1, paper 0) with a soft one-pixel
 * edge, as a canvas draws them (close, not bit-identical: the tests compare outputs on the page's own
 * pixels). For finding strokes a model classifies, in Node.
 */
export function rasterizeStrokes(strokes: readonly Stroke[], size: number, lineWidth: number): Float32Array {
  const img = new Float32Array(size * size);
  const r = lineWidth / 2;
  for (const stroke of strokes) {
    const segs = stroke.length === 1 ? [[stroke[0], stroke[0]]] : stroke.slice(1).map((p, i) => [stroke[i], p]);
    for (const [a, b] of segs as [readonly [number, number], readonly [number, number]][]) {
      const [ax, ay] = a;
      const [bx, by] = b;
      const dx = bx - ax;
      const dy = by - ay;
      const len2 = dx * dx + dy * dy;
      for (
        let y = Math.max(0, Math.floor(Math.min(ay, by) - r - 1));
        y < Math.min(size, Math.ceil(Math.max(ay, by) + r + 1));
        y++
      )
        for (
          let x = Math.max(0, Math.floor(Math.min(ax, bx) - r - 1));
          x < Math.min(size, Math.ceil(Math.max(ax, bx) + r + 1));
          x++
        ) {
          const px = x + 0.5;
          const py = y + 0.5;
          const t = len2 > 0 ? Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / len2)) : 0;
          const d = Math.hypot(px - (ax + t * dx), py - (ay + t * dy));
          const v = Math.max(0, Math.min(1, r + 0.5 - d));
          if (v > (img[y * size + x] as number)) img[y * size + x] = v;
        }
    }
  }
  return img;
}
