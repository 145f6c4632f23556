// The one lint/format setup (Biome) runs as part of the test command, so CI refuses code that drifts
// from the shared style or trips a lint rule. Warnings are reported but do not fail.
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

describe("biome", () => {
  it("finds no lint errors and no unformatted files", () => {
    const bin = createRequire(path.join(root, "package.json")).resolve("@biomejs/biome/bin/biome");
    const run = spawnSync(process.execPath, [bin, "ci", "--colors=off", "--max-diagnostics=20", "."], {
      cwd: root,
      encoding: "utf8",
    });
    expect(run.error).toBeUndefined();
    expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
  });
});
