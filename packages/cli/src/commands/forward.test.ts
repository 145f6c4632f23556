import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { serializeSafetensors } from "@lowrank/formats";
import { adapterLinear, CharSeq2Seq, peftAdapterFromBytes } from "@lowrank/runtime";
import { fixturePath } from "@lowrank/vitest-config/fixtures";
import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import { runCli } from "../program.js";
import { captureIO } from "../testing.js";
import { type ForwardOutput, forwardJson, parseAdapterSpec } from "./forward.js";

const golden = (name: string) => fileURLToPath(new URL(`../../../../tooling/golden/${name}`, import.meta.url));
const readGolden = (name: string) => JSON.parse(readFileSync(golden(`${name}.json`), "utf8"));

function close(actual: number[], expected: number[]) {
  expect(actual.length).toBe(expected.length);
  const bad = actual.filter(
    (a, i) => !(Math.abs(a - (expected[i] as number)) <= 1e-4 * Math.abs(expected[i] as number) + 1e-6),
  );
  expect(bad).toEqual([]);
}

async function cli(args: string[]) {
  const io = captureIO();
  const code = await runCli(args, io);
  return { code, out: io.out(), err: io.err() };
}

describe("lowrank forward", () => {
  const g = readGolden("gpt2-tiny");
  const ids = (g.input_ids[0] as number[]).join(",");

  it("--json prints one row per position, matching the NumPy reference, with and without an adapter", async () => {
    const base = await cli(["forward", "--base", fixturePath("hf-gpt2-tiny"), "--input-ids", ids, "--json"]);
    expect(base.err).toBe("");
    expect(base.code).toBe(0);
    const parsed = JSON.parse(base.out);
    expect(parsed).toMatchObject({ output: "last_hidden_state", shape: [6, 2], architecture: "GPT2Model" });
    close(parsed.logits.flat(), (g.base as number[][]).slice(0, 6).flat());

    const half = await cli([
      "forward",
      "--base",
      fixturePath("hf-gpt2-tiny"),
      "--adapter",
      `${golden("adapters/gpt2-tiny-lora")}:0.5`,
      "--input-ids",
      ids,
      "--json",
    ]);
    expect(half.code).toBe(0);
    const h = JSON.parse(half.out);
    close(h.logits.flat(), (g["adapter_output_scale_0.5"] as number[][]).slice(0, 6).flat());
    expect(h.adapter).toMatchObject({ scale: 0.5 });
    expect(h.adapter.digest).toMatch(/^[0-9a-f]{64}$/);
  });

  it("runs BERT with token types and a padding mask (logits over the vocabulary)", async () => {
    const b = readGolden("bert-tiniest");
    const r = await cli([
      "forward",
      "--base",
      fixturePath("hf-bert-tiniest"),
      "--adapter",
      golden("adapters/bert-tiniest-lora"),
      "--input-ids",
      b.input_ids[1].join(","),
      "--token-type-ids",
      b.token_type_ids[1].join(","),
      "--attention-mask",
      b.attention_mask[1].join(","),
      "--json",
    ]);
    expect(r.err).toBe("");
    const parsed = JSON.parse(r.out);
    expect(parsed.shape).toEqual([6, 30522]);
    const cols = b.adapter_logits.columns as number[];
    close(
      parsed.logits.flatMap((row: number[]) => cols.map((c) => row[c] as number)),
      (b.adapter_logits.values as number[][]).slice(6, 12).flat(),
    );
  });

  it("prints plain rows without --json", async () => {
    const r = await cli(["forward", "--base", fixturePath("hf-gpt2-tiny"), "--input-ids", "1,2"]);
    expect(r.code).toBe(0);
    expect(
      r.out
        .trim()
        .split("\n")
        .map((l) => l.split(" ").length),
    ).toEqual([2, 2]);
  });

  it("exits 1 with a one-line reason on bad input, 2 on usage errors", async () => {
    const missing = await cli(["forward", "--base", "/nonexistent/model", "--input-ids", "1,2"]);
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/^lowrank: model folder '\/nonexistent\/model': expected config.json/);
    expect(missing.err.trim().split("\n")).toHaveLength(1);
    const range = await cli(["forward", "--base", fixturePath("hf-gpt2-tiny"), "--input-ids", "1,99", "--json"]);
    expect(range.code).toBe(1);
    expect(JSON.parse(range.out).error.message).toMatch(/expected ids in \[0, 21\), found 99/);
    const mismatch = await cli([
      "forward",
      "--base",
      fixturePath("hf-gpt2-tiny"),
      "--adapter",
      golden("adapters/bert-tiniest-lora"),
      "--input-ids",
      "1",
    ]);
    expect(mismatch.code).toBe(1);
    expect(mismatch.err).toMatch(/AdapterMismatch|expected a linear module/);
    expect((await cli(["forward", "--base", fixturePath("hf-gpt2-tiny"), "--input-ids", "a,b"])).code).toBe(2);
    expect((await cli(["forward", "--base", fixturePath("hf-gpt2-tiny")])).code).toBe(2);
    expect((await cli(["forward", "--input-ids", "1"])).code).toBe(2);
  });

  it("--input runs a Dense classifier folder (as the recipes save it) and prints its class scores", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "lowrank-clf-"));
    try {
      // fc1 [3, 2] then head [2, 2]; ReLU between (the default for a Dense stack without config 'layers').
      const k1 = new Float32Array([1, -1, 0.5, 2, -0.5, 0]);
      const k2 = new Float32Array([1, 2, -1, 0.5]);
      await writeFile(
        path.join(dir, "model.safetensors"),
        serializeSafetensors({
          "fc1.kernel": { dtype: "F32", shape: [3, 2], data: k1 },
          "fc1.bias": { dtype: "F32", shape: [2], data: new Float32Array([0.1, -0.2]) },
          "head.kernel": { dtype: "F32", shape: [2, 2], data: k2 },
          "head.bias": { dtype: "F32", shape: [2], data: new Float32Array([0, 1]) },
        }),
      );
      await writeFile(path.join(dir, "config.json"), JSON.stringify({ task: "demo" }));
      const r = await cli(["forward", "--base", dir, "--input", "1,2,3", "--json"]);
      expect(r.err).toBe("");
      const parsed = JSON.parse(r.out);
      // h = relu([1+1-1.5+0.1, -1+4+0-0.2]) = [0.6, 2.8]; scores = [0.6-2.8, 1.2+1.4+1] = [-2.2, 3.6]
      expect(parsed.output).toBe("scores");
      expect(parsed.logits[0][0]).toBeCloseTo(-2.2, 5);
      expect(parsed.logits[0][1]).toBeCloseTo(3.6, 5);
      const wrong = await cli(["forward", "--base", dir, "--input", "1,2"]);
      expect(wrong.code).toBe(1);
      expect(wrong.err).toMatch(/--input: expected \[3\] floats, found shape \[2\]/);
      expect((await cli(["forward", "--base", dir, "--input-ids", "1,2"])).code).toBe(2);
      expect((await cli(["forward", "--base", dir, "--input", "1,x"])).code).toBe(2);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("--input-ids runs the translation demo's CharSeq2Seq base with an adapter: logits per target position", async () => {
    const demo = fileURLToPath(new URL("../../../../examples/artifacts/translation/", import.meta.url));
    const base = path.join(demo, "base");
    const adapter = path.join(demo, "adapters", "translit-uzbek");
    const model = CharSeq2Seq.fromBytes(
      readFileSync(path.join(base, "config.json")),
      readFileSync(path.join(base, "model.safetensors")),
    );
    // "бажарилиши" as the source, then BOS: the first decoding step's row.
    const steps = model.decodeSteps("бажарилиши");
    const row = Array.from(steps.next().value as Int32Array);
    const lora = peftAdapterFromBytes(
      "uz",
      readFileSync(path.join(adapter, "adapter_config.json")),
      readFileSync(path.join(adapter, "adapter_model.safetensors")),
    );
    const want = tf.tidy(() =>
      Array.from(model.forward(tf.tensor2d([row], [1, row.length], "int32"), adapterLinear(model, lora)).dataSync()),
    );
    for (const m of lora.modules.values()) tf.dispose([m.a, m.b]);
    model.dispose();
    const r = await cli(["forward", "--base", base, "--adapter", adapter, "--input-ids", row.join(","), "--json"]);
    expect(r.err).toBe("");
    const parsed = JSON.parse(r.out);
    expect(parsed).toMatchObject({ output: "logits", architecture: "CharSeq2Seq" });
    expect(parsed.shape).toEqual([20, want.length / 20]);
    close(parsed.logits.flat(), want);
    const short = await cli(["forward", "--base", base, "--input-ids", "3,4,5"]);
    expect(short.code).toBe(1);
    expect(short.err).toMatch(/expected \[36\] ids/);
  });

  it("parses DIR[:SCALE]", () => {
    expect(parseAdapterSpec("a/b")).toEqual({ dir: "a/b", scale: 1 });
    expect(parseAdapterSpec("a/b:0.25")).toEqual({ dir: "a/b", scale: 0.25 });
    expect(parseAdapterSpec("c:\\x:2")).toEqual({ dir: "c:\\x", scale: 2 });
    expect(parseAdapterSpec("a:b")).toEqual({ dir: "a:b", scale: 1 });
    // A scale goes through the CLI's number parser: an overflowing one is a usage error, not Infinity.
    expect(() => parseAdapterSpec("a/b:1e999")).toThrow(/^--adapter: expected a number, found "1e999"$/);
  });

  it("--last and --top-k report the last position and the K best ids, in text and JSON", async () => {
    const lm = fixturePath("hf-gpt2-lmhead-tiny");
    const full = await cli(["forward", "--base", lm, "--input-ids", "3,1,4", "--json"]);
    const rows = JSON.parse(full.out).logits as number[][];
    const lastRow = rows.at(-1) as number[];
    const last = await cli(["forward", "--base", lm, "--input-ids", "3,1,4", "--last", "--json"]);
    expect(last.code).toBe(0);
    const l = JSON.parse(last.out);
    expect(l).toMatchObject({ positions: [2], shape: [3, lastRow.length], output: "logits" });
    expect(l.logits).toEqual([lastRow]);
    const top = await cli(["forward", "--base", lm, "--input-ids", "3,1,4", "--last", "--top-k", "3", "--json"]);
    const t = JSON.parse(top.out);
    expect(t.logits).toBeUndefined();
    const best = lastRow
      .map((score, id) => ({ id, score }))
      .sort((a, b) => b.score - a.score)
      .slice(0, 3);
    expect(t.top).toEqual([best]);
    const text = await cli(["forward", "--base", lm, "--input-ids", "3,1,4", "--top-k", "2"]);
    const lines = text.out.trim().split("\n");
    expect(lines).toHaveLength(3);
    expect(lines[2]).toBe(
      `2\t${best
        .slice(0, 2)
        .map((b) => `${b.id}:${b.score.toPrecision(7)}`)
        .join(" ")}`,
    );
    const lastText = await cli(["forward", "--base", lm, "--input-ids", "3,1,4", "--last"]);
    expect(lastText.out.trim().split("\n")).toHaveLength(1);
    const tooMany = await cli(["forward", "--base", lm, "--input-ids", "3", "--top-k", "100000", "--json"]);
    expect(tooMany.code).toBe(0);
    expect(tooMany.err).toBe(
      `lowrank: --top-k 100000: rows have ${lastRow.length} values, showing ${lastRow.length}\n`,
    );
    expect((await cli(["forward", "--base", lm, "--input-ids", "3", "--top-k", "0"])).code).toBe(2);
  });

  it("streams JSON row by row: no piece is longer than one row, and the pieces parse to the whole output", () => {
    // GPT-2's vocabulary: one row is about 1 MB of JSON; 1,000 positions of them (27 s and "Invalid string
    // length" as one string before) now cost one row of memory at a time.
    const width = 50257;
    const positions = 12;
    const rows = Array.from({ length: positions }, (_, p) => new Float32Array(width).map((_, i) => (i - p) / 7));
    const result: ForwardOutput = {
      logits: rows,
      positions: Array.from({ length: positions }, (_, i) => i),
      output: "logits",
      shape: [positions, width],
      architecture: "GPT2LMHeadModel",
      base: "0".repeat(64),
    };
    const pieces = [...forwardJson(result)];
    expect(pieces).toHaveLength(positions + 2);
    const rowLength = Math.max(...rows.map((r) => JSON.stringify(Array.from(r)).length));
    expect(Math.max(...pieces.map((p) => p.length))).toBeLessThanOrEqual(rowLength + 1);
    const parsed = JSON.parse(pieces.join(""));
    expect(parsed).toMatchObject({ output: "logits", shape: [positions, width], positions: result.positions });
    expect(parsed.logits).toHaveLength(positions);
    for (const [p, row] of rows.entries()) expect(Float32Array.from(parsed.logits[p])).toEqual(row);
  });
});
