// `tsc` over every workspace package (through turbo, as `pnpm typecheck`), inside the test command: vitest
// strips types without checking them, so without this a type error in a test or an example would pass CI.
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { pnpmCommand } from "@lowrank/vitest-config/pnpm";
import { describe, expect, it } from "vitest";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

describe("typecheck", () => {
  it("every package type-checks", { timeout: 600_000 }, () => {
    const [cmd, ...args] = pnpmCommand();
    const run = spawnSync(
      cmd as string,
      [...args, "exec", "turbo", "run", "typecheck", "--concurrency=1", "--output-logs=errors-only"],
      {
        cwd: root,
        encoding: "utf8",
        env: { ...process.env, FORCE_COLOR: "0", TURBO_TELEMETRY_DISABLED: "1" },
        maxBuffer: 64 << 20,
      },
    );
    expect(run.error).toBeUndefined();
    const errors = `${run.stdout}\n${run.stderr}`.split("\n").filter((l) => /error TS\d+/.test(l));
    expect(errors.slice(0, 20)).toEqual([]);
    expect(run.status, `${run.stdout}\n${run.stderr}`.slice(-4000)).toBe(0);
  });
});
