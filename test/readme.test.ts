// Runs the README's SDK example as written, so the documentation cannot drift from the code.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { fixturePath } from "@lowrank/vitest-config/fixtures";
import { afterAll, describe, expect, it } from "vitest";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
// Its own folder: other suites of this project write under test/.tmp at the same time.
const tmpDir = path.join(root, "test", ".tmp", "readme");

function readmeExample(file = "README.md"): string {
  const readme = readFileSync(path.join(root, file), "utf8");
  const m = readme.match(/<!-- readme-example:start -->\n```ts\n([\s\S]*?)```\n<!-- readme-example:end -->/);
  if (!m?.[1]) throw new Error(`${file}: no block between readme-example markers`);
  return m[1];
}

describe("README SDK example", () => {
  afterAll(() => rmSync(tmpDir, { recursive: true, force: true }));

  it("runs, trains only the adapter, and the loss goes down", async () => {
    mkdirSync(tmpDir, { recursive: true });
    const file = path.join(tmpDir, "readme-example.ts");
    writeFileSync(file, readmeExample());
    const { summary } = (await import(/* @vite-ignore */ file)) as {
      summary: { trainable: number; fraction: number; first: number; last: number };
    };
    // fc1 is 16x64: r=4 adds A [16,4] and B [4,64] = 320 trainable parameters.
    expect(summary.trainable).toBe(16 * 4 + 4 * 64);
    expect(summary.fraction).toBeGreaterThan(0);
    expect(summary.fraction).toBeLessThan(0.5);
    expect(summary.last).toBeLessThan(summary.first);
  });
});

describe("@lowrank/runtime README example", () => {
  afterAll(() => rmSync(tmpDir, { recursive: true, force: true }));

  it("serves the base and an adapter at two scales in one batch, with golden outputs", async () => {
    mkdirSync(tmpDir, { recursive: true });
    const file = path.join(tmpDir, "runtime-readme-example.ts");
    // The README's paths, pointed at the tiny GPT-2 fixture and the adapter the NumPy goldens were made with.
    const code = readmeExample("packages/runtime/README.md")
      .replace('"models/gpt2"', JSON.stringify(fixturePath("hf-gpt2-tiny")))
      .replace('"adapters/support"', JSON.stringify(path.join(root, "tooling/golden/adapters/gpt2-tiny-lora")));
    expect(code).not.toContain('"models/gpt2"');
    writeFileSync(file, code);
    type Out = { data: Float32Array; shape: number[]; adapter: string; batchSize: number };
    const { result } = (await import(/* @vite-ignore */ file)) as {
      result: { plain: Out; tuned: Out; half: Out; stats: { batches: number } };
    };
    const { plain, tuned, half } = result;
    expect(plain.shape).toEqual([3, 2]); // n_embd 2: one row of hidden states per position
    expect(half.shape).toEqual([2, 2]);
    expect([plain.batchSize, tuned.batchSize, half.batchSize]).toEqual([3, 3, 3]); // lengths 3 and 2 share a batch
    expect(tuned.adapter).toBe("support");
    // Golden values from the independent NumPy implementation (tooling/golden): causal, so the first k
    // positions of a golden row are the outputs of its k-token prefix.
    const g = JSON.parse(readFileSync(path.join(root, "tooling/golden/gpt2-tiny.json"), "utf8")) as Record<
      string,
      number[][]
    >;
    const close = (got: Float32Array, want: number[][]) => {
      const flat = want.flat();
      expect(got.length).toBe(flat.length);
      flat.forEach((v, i) => {
        expect(got[i]).toBeCloseTo(v, 4);
      });
    };
    close(plain.data, (g.base as number[][]).slice(0, 3));
    close(tuned.data, (g.adapter_output as number[][]).slice(0, 3));
    close(half.data, (g["adapter_output_scale_0.5"] as number[][]).slice(6, 8));
  });
});
