import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { fixturePath } from "@lowrank/vitest-config/fixtures";
import { describe, expect, it } from "vitest";
import { runCli } from "../program.js";
import { captureIO } from "../testing.js";
import { parseAdapterSpec } from "./forward.js";

const golden = (name: string) => fileURLToPath(new URL(`../../../../tooling/golden/${name}`, import.meta.url));
const readGolden = (name: string) => JSON.parse(readFileSync(golden(`${name}.json`), "utf8"));

function close(actual: number[], expected: number[]) {
  expect(actual.length).toBe(expected.length);
  const bad = actual.filter((a, i) => !(Math.abs(a - (expected[i] as number)) <= 1e-4 * Math.abs(expected[i] as number) + 1e-6));
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

    const half = await cli(["forward", "--base", fixturePath("hf-gpt2-tiny"), "--adapter", `${golden("adapters/gpt2-tiny-lora")}:0.5`, "--input-ids", ids, "--json"]);
    expect(half.code).toBe(0);
    const h = JSON.parse(half.out);
    close(h.logits.flat(), (g["adapter_output_scale_0.5"] as number[][]).slice(0, 6).flat());
    expect(h.adapter).toMatchObject({ scale: 0.5 });
    expect(h.adapter.digest).toMatch(/^[0-9a-f]{64}$/);
  });

  it("runs BERT with token types and a padding mask (logits over the vocabulary)", async () => {
    const b = readGolden("bert-tiniest");
    const r = await cli([
      "forward", "--base", fixturePath("hf-bert-tiniest"), "--adapter", golden("adapters/bert-tiniest-lora"),
      "--input-ids", b.input_ids[1].join(","), "--token-type-ids", b.token_type_ids[1].join(","), "--attention-mask", b.attention_mask[1].join(","), "--json",
    ]);
    expect(r.err).toBe("");
    const parsed = JSON.parse(r.out);
    expect(parsed.shape).toEqual([6, 30522]);
    const cols = b.adapter_logits.columns as number[];
    close(parsed.logits.flatMap((row: number[]) => cols.map((c) => row[c] as number)), (b.adapter_logits.values as number[][]).slice(6, 12).flat());
  });

  it("prints plain rows without --json", async () => {
    const r = await cli(["forward", "--base", fixturePath("hf-gpt2-tiny"), "--input-ids", "1,2"]);
    expect(r.code).toBe(0);
    expect(r.out.trim().split("\n").map((l) => l.split(" ").length)).toEqual([2, 2]);
  });

  it("exits 1 with a one-line reason on bad input, 2 on usage errors", async () => {
    const missing = await cli(["forward", "--base", "/nonexistent/model", "--input-ids", "1,2"]);
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/^lowrank: model folder '\/nonexistent\/model': expected config.json/);
    expect(missing.err.trim().split("\n")).toHaveLength(1);
    const range = await cli(["forward", "--base", fixturePath("hf-gpt2-tiny"), "--input-ids", "1,99", "--json"]);
    expect(range.code).toBe(1);
    expect(JSON.parse(range.out).error.message).toMatch(/expected ids in \[0, 21\), found 99/);
    const mismatch = await cli(["forward", "--base", fixturePath("hf-gpt2-tiny"), "--adapter", golden("adapters/bert-tiniest-lora"), "--input-ids", "1"]);
    expect(mismatch.code).toBe(1);
    expect(mismatch.err).toMatch(/AdapterMismatch|expected a linear module/);
    expect((await cli(["forward", "--base", fixturePath("hf-gpt2-tiny"), "--input-ids", "a,b"])).code).toBe(2);
    expect((await cli(["forward", "--base", fixturePath("hf-gpt2-tiny")])).code).toBe(2);
  });

  it("parses DIR[:SCALE]", () => {
    expect(parseAdapterSpec("a/b")).toEqual({ dir: "a/b", scale: 1 });
    expect(parseAdapterSpec("a/b:0.25")).toEqual({ dir: "a/b", scale: 0.25 });
    expect(parseAdapterSpec("c:\\x:2")).toEqual({ dir: "c:\\x", scale: 2 });
    expect(parseAdapterSpec("a:b")).toEqual({ dir: "a:b", scale: 1 });
  });
});
