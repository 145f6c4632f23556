import { describe, expect, it } from "vitest";
import { invert, loadMnist, MNIST_PIXELS, mnistRows, mnistSplit, rotate } from "./mnist.js";
import { hashedFeatures, loadSentiment, SENTIMENT_DOMAINS } from "./sentiment.js";
import { transliterationPairs } from "./udhrPairs.js";

describe("mnist loader", () => {
  it("returns the package's 10,000 digits with every class present in a balanced way", () => {
    const set = loadMnist();
    expect(set.n).toBe(10_000);
    expect(set.pixels.length).toBe(10_000 * MNIST_PIXELS);
    const counts = new Array(10).fill(0);
    for (const l of set.labels) counts[l]++;
    for (const c of counts) expect(c).toBeGreaterThan(800);
    expect(counts.reduce((a, b) => a + b)).toBe(10_000);
    expect(set.pixels.every((v) => v >= 0 && v <= 1)).toBe(true);
  });
  it("has a fixed, disjoint 8,000/2,000 split", () => {
    const a = mnistSplit(0);
    const b = mnistSplit(0);
    expect(a.train.length).toBe(8000);
    expect(a.test.length).toBe(2000);
    expect([...a.test]).toEqual([...b.test]);
    const test = new Set(a.test);
    expect(a.train.some((i) => test.has(i))).toBe(false);
  });
  it("transforms: inversion, rotation by 0 is identity, two 90° turns reverse the image", () => {
    const idx = Int32Array.from([0, 5000]);
    const plain = mnistRows(idx).pixels;
    const inv = mnistRows(idx, invert).pixels;
    for (let i = 0; i < plain.length; i++) expect(inv[i]).toBeCloseTo(1 - (plain[i] as number), 6);
    const r0 = mnistRows(idx, rotate(0)).pixels;
    for (let i = 0; i < plain.length; i++) expect(r0[i]).toBeCloseTo(plain[i] as number, 5);
    const r90 = rotate(90);
    const img = plain.subarray(0, MNIST_PIXELS);
    const r180 = r90(r90(img));
    for (let i = 0; i < MNIST_PIXELS; i++) expect(r180[i]).toBeCloseTo(img[MNIST_PIXELS - 1 - i] as number, 4);
  });
});

describe("sentiment loader", () => {
  it("reads 1,001 labelled sentences per domain, 500 positive", () => {
    for (const d of SENTIMENT_DOMAINS) {
      const rows = loadSentiment(d);
      expect(rows.length).toBe(1001);
      const pos = rows.filter((r) => r.label === 1).length;
      expect(pos).toBe(500);
      expect(rows.filter((r) => r.text.trim().length > 0).length).toBeGreaterThan(990);
    }
  });
  it("hashed features are L2-normalized and equal for equal token bags", () => {
    const f = hashedFeatures(["Great phone, great price!", "great price great phone", ""], 256);
    let n0 = 0;
    for (let j = 0; j < 256; j++) n0 += (f[j] as number) ** 2;
    expect(n0).toBeCloseTo(1, 5);
    expect(f.subarray(512).every((v) => v === 0)).toBe(true);
    // Same unigrams but different bigrams: rows differ.
    expect([...f.subarray(0, 256)]).not.toEqual([...f.subarray(256, 512)]);
  });
});

describe("udhr transliteration pairs", () => {
  it("aligns Cyrillic and Latin words of four languages", () => {
    const srp = new Map(transliterationPairs("srp"));
    expect(srp.size).toBeGreaterThan(600);
    expect(srp.get("правима")).toBe("pravima");
    expect(srp.get("човека")).toBe("čoveka");
    const uzn = new Map(transliterationPairs("uzn"));
    expect(uzn.size).toBeGreaterThan(600);
    expect(uzn.get("инсон")).toBe("inson");
    expect(transliterationPairs("azj").length).toBeGreaterThan(600);
    expect(transliterationPairs("bos").length).toBeGreaterThan(600);
  });
});
