import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "./program.js";
import { captureIO } from "./testing.js";

// Every numeric option of every command, with a value it accepts.
const NUMERIC: Record<string, Array<[string, string]>> = {
  serve: [
    ["--port", "0"],
    ["--max-batch", "4"],
    ["--max-wait-ms", "2"],
    ["--cache-mb", "16"],
  ],
  train: [
    ["--rank", "2"],
    ["--alpha", "4"],
    ["--epochs", "1"],
    ["--seed", "3"],
    ["--batch-size", "8"],
    ["--lr", "0.01"],
  ],
  generate: [
    ["--max-new-tokens", "2"],
    ["--temperature", "0.5"],
    ["--top-k", "3"],
    ["--seed", "1"],
  ],
  forward: [["--top-k", "2"]],
  convert: [
    ["--heads", "4"],
    ["--kv-heads", "2"],
  ],
};

// Values no numeric option takes.
const BAD_NUMBERS = ["", " ", "abc", "NaN", "Infinity", "-Infinity", "1e999", "0x10", "1,2", "--", "-1", "1.5.2", "½"];

describe("lowrank argv fuzz", () => {
  let empty: string;
  beforeAll(async () => {
    empty = await mkdtemp(path.join(os.tmpdir(), "lowrank-fuzz-"));
  });
  afterAll(async () => {
    await rm(empty, { recursive: true, force: true });
  });

  // Skeletons that would do real work if every value were valid; a bad number must stop them first.
  const skeleton = (cmd: string): string[] =>
    ({
      serve: ["serve", "--base", "synthetic:mlp"],
      train: ["train", "tiny", "--recipes", empty],
      generate: ["generate", "--base", empty, "--prompt", "hi"],
      forward: ["forward", "--base", empty, "--input-ids", "1"],
      convert: ["convert", empty, path.join(empty, "out.gguf")],
    })[cmd] as string[];

  it("a numeric option given a mutated value is refused with exit 2 and one line naming it, before any work", async () => {
    const cases = Object.entries(NUMERIC).flatMap(([cmd, opts]) => opts.map(([flag, ok]) => ({ cmd, flag, ok })));
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...cases),
        fc.oneof(
          fc.constantFrom(...BAD_NUMBERS),
          fc.string({ maxLength: 6 }).filter((s) => !/^\s*[+]?\d+(\.\d*)?\s*$/.test(s)),
        ),
        fc.boolean(),
        async ({ cmd, flag }, value, json) => {
          const io = captureIO();
          const argv = [...skeleton(cmd), `${flag}=${value}`, ...(json ? ["--json"] : [])];
          const code = await runCli(argv, io);
          expect(code, argv.join(" ")).toBe(2);
          if (json) {
            expect(JSON.parse(io.out()).error.code).toMatch(/^(InvalidOption|Usage)$/);
          } else {
            expect(io.out()).toBe("");
            expect(io.err().split("\n")[0]).toMatch(new RegExp(`^lowrank: ${flag}: expected `));
          }
        },
      ),
      { numRuns: 150, seed: 42 },
    );
  });

  it("random argv never throws: exit 0, 1 or 2, and errors are `lowrank: ...` lines or one JSON object", async () => {
    const flags = [...new Set(Object.values(NUMERIC).flatMap((o) => o.map(([f]) => f)))];
    const token = fc.oneof(
      fc.constantFrom("inspect", "convert", "forward", "generate", "merge", "doctor", "train", "help"),
      fc.constantFrom(...flags, "--json", "--force", "--last", "--to", "--backend", "--mode", "--input", "--adapter"),
      fc.constantFrom(...BAD_NUMBERS, "cpu", "gguf", empty, "/no/such/path", "a:0.5"),
      fc.string({ maxLength: 8 }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(token, { maxLength: 7 }), async (argv) => {
        // train never reaches a real recipe: the recipe folder is always the empty one.
        const full = argv[0] === "train" ? [...argv, "--recipes", empty] : argv;
        const io = captureIO();
        const code = await runCli(full, io);
        expect([0, 1, 2], full.join(" ")).toContain(code);
        if (code !== 0 && full.includes("--json"))
          expect(JSON.parse(io.out().trim().split("\n").at(-1) ?? "")).toHaveProperty("error.code");
        else if (code === 1) expect(io.err()).toMatch(/^lowrank: [^\n]+\n$/);
      }),
      { numRuns: 200, seed: 7 },
    );
  });
});
