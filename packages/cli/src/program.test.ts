import { describe, expect, it } from "vitest";
import { runCli } from "./program.js";
import { captureIO } from "./testing.js";

describe("lowrank CLI shell", () => {
  it("doctor --json reports node, the active backend with its features, and the hub's storage locations", async () => {
    const io = captureIO();
    const code = await runCli(["doctor", "--json", "--backend", "wasm"], io);
    expect(code).toBe(0);
    const report = JSON.parse(io.out());
    expect(report.node).toBe(process.versions.node);
    expect(report.backend.name).toBe("wasm");
    expect(report.backend.simd).toBe(true);
    expect(report.database.kind).toMatch(/^(pglite|postgres)$/);
    // The hub's blob store, where the hub puts it (a folder under the data dir unless LOWRANK_S3_BUCKET).
    expect(report.blobs.kind).toMatch(/^(files|s3)$/);
  });

  it("doctor --threads runs wasm on 2 threads and goes back to 1; a bad count is a usage error", async () => {
    const io = captureIO();
    expect(await runCli(["doctor", "--json", "--backend", "wasm", "--threads", "2"], io)).toBe(0);
    expect(JSON.parse(io.out()).backend.threads).toBe(2);
    const bad = captureIO();
    expect(await runCli(["doctor", "--backend", "wasm", "--threads", "0"], bad)).toBe(2);
    expect(bad.err()).toMatch(/--threads: expected a thread count from 1 to 999 or "auto", found "0"/);
    const back = captureIO();
    expect(await runCli(["doctor", "--json", "--backend", "wasm"], back)).toBe(0);
    expect(JSON.parse(back.out()).backend.threads).toBe(1);
  });

  it("doctor prints a readable report", async () => {
    const io = captureIO();
    expect(await runCli(["doctor", "--backend", "cpu"], io)).toBe(0);
    expect(io.out()).toMatch(/^backend\s+cpu \(tfjs 4\.22\.0/m);
  });

  it("exits 2 on usage errors and 0 on --help for every command", async () => {
    const bad = captureIO();
    expect(await runCli(["no-such-command"], bad)).toBe(2);
    expect(bad.err()).toContain("unknown command");
    const io = captureIO();
    expect(await runCli(["--help"], io)).toBe(0);
    const names = [...io.out().matchAll(/^ {2}([a-z][a-z-]*)/gm)].map((m) => m[1]).filter((n) => n !== "help");
    expect(names).toContain("doctor");
    for (const name of names) {
      const sub = captureIO();
      expect(await runCli([name!, "--help"], sub), name).toBe(0);
      expect(sub.out()).toContain(`Usage: lowrank ${name}`);
    }
  });

  it("every invalid option value is a usage error (exit 2) with one line naming the flag, whichever parser sees it", async () => {
    const cases: Array<[string[], RegExp]> = [
      [
        ["doctor", "--backend", "bogus"],
        /^lowrank: --backend: expected one of auto, wasm, cpu, tensorflow, webgpu, found "bogus"$/,
      ],
      [
        ["serve", "--base", "synthetic:mlp", "--port", "-1"],
        /^lowrank: --port: expected an integer from 0 to 65535, found "-1"$/,
      ],
      [
        ["serve", "--base", "synthetic:mlp", "--mode", "fast"],
        /^lowrank: --mode: expected one of unmerged, merged, found "fast"$/,
      ],
      [
        ["serve", "--base", "synthetic:mlp", "--max-batch", "0"],
        /^lowrank: --max-batch: expected an integer >= 1, found "0"$/,
      ],
      [
        ["serve", "--base", "synthetic:mlp", "--max-batch", "abc"],
        /^lowrank: --max-batch: expected an integer >= 1, found "abc"$/,
      ],
      [["serve", "--base", "synthetic:mlp", "--max-wait-ms", "NaN"], /^lowrank: --max-wait-ms: expected a number >= 0/],
      [["train", "tiny", "--rank", "0"], /^lowrank: --rank: expected an integer >= 1, found "0"$/],
      [["train", "tiny", "--rank", "-1"], /^lowrank: --rank: expected an integer >= 1, found "-1"$/],
      [["train", "tiny", "--lr", "-1"], /^lowrank: --lr: expected a number > 0, found "-1"$/],
      [["generate", "--base", "x", "--prompt", "p", "--top-k", "1.5"], /^lowrank: --top-k: expected an integer >= 0/],
      [
        ["convert", "a", "b", "--to", "onnx"],
        /^lowrank: --to: expected one of peft, gguf, kohya, safetensors, found "onnx"$/,
      ],
      [["forward", "--base", "x", "--input-ids", "1,a"], /^lowrank: --input-ids: expected comma-separated integers/],
      [
        ["doctor", "--threads", "0"],
        /^lowrank: --threads: expected a thread count from 1 to 999 or "auto", found "0"$/,
      ],
    ];
    for (const [argv, reason] of cases) {
      const io = captureIO();
      expect(await runCli(argv, io), argv.join(" ")).toBe(2);
      expect(io.err().split("\n")[0], argv.join(" ")).toMatch(reason);
      const json = captureIO();
      expect(await runCli([...argv, "--json"], json), argv.join(" ")).toBe(2);
      expect(json.err()).toBe("");
      expect(JSON.parse(json.out())).toEqual({
        error: { code: "InvalidOption", message: expect.stringMatching(/^--/) },
      });
    }
  });

  it("`lowrank` with no command is a usage error (exit 2); --json makes every usage error a JSON object", async () => {
    const none = captureIO();
    expect(await runCli([], none)).toBe(2);
    expect(none.err()).toContain("Usage: lowrank");
    const unknown = captureIO();
    expect(await runCli(["inspect", "x", "--nope", "--json"], unknown)).toBe(2);
    expect(unknown.err()).toBe("");
    expect(JSON.parse(unknown.out())).toEqual({ error: { code: "Usage", message: "unknown option '--nope'" } });
    const missing = captureIO();
    expect(await runCli(["--json"], missing)).toBe(2);
    expect(JSON.parse(missing.out()).error.code).toBe("Usage");
  });

  it("bad input is exit 1 with one line, or a JSON error with --json", async () => {
    const io = captureIO();
    expect(await runCli(["inspect", "/no/such/file"], io)).toBe(1);
    expect(io.err()).toMatch(/^lowrank: \/no\/such\/file: expected a file or folder, found none[^\n]*\n$/);
    const json = captureIO();
    expect(await runCli(["inspect", "/no/such/file", "--json"], json)).toBe(1);
    expect(JSON.parse(json.out()).error.code).toBe("IoError");
  });

  it("says so when --threads is more than the backend runs, instead of silently running fewer", async () => {
    const io = captureIO();
    expect(await runCli(["doctor", "--json", "--backend", "wasm", "--threads", "64"], io)).toBe(0);
    const used = JSON.parse(io.out()).backend.threads as number;
    expect(used).toBeLessThan(64);
    expect(io.err()).toBe(`lowrank: --threads 64: running ${used} threads, the most the wasm backend starts here\n`);
    const env = captureIO();
    process.env.LOWRANK_WASM_THREADS = "64";
    try {
      expect(await runCli(["doctor", "--json", "--backend", "wasm"], env)).toBe(0);
    } finally {
      delete process.env.LOWRANK_WASM_THREADS;
    }
    expect(env.err()).toBe(
      `lowrank: LOWRANK_WASM_THREADS=64: running ${used} threads, the most the wasm backend starts here\n`,
    );
    const back = captureIO();
    expect(await runCli(["doctor", "--json", "--backend", "wasm", "--threads", "1"], back)).toBe(0);
    expect(back.err()).toBe("");
  });
});
