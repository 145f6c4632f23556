// Runs the README's SDK example as written, so the documentation cannot drift from the code.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const tmpDir = path.join(root, "test", ".tmp");

function readmeExample(): string {
  const readme = readFileSync(path.join(root, "README.md"), "utf8");
  const m = readme.match(/<!-- readme-example:start -->\n```ts\n([\s\S]*?)```\n<!-- readme-example:end -->/);
  if (!m?.[1]) throw new Error("README.md: no block between readme-example markers");
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
