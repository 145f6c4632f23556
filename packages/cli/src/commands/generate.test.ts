import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { fixturePath } from "@lowrank/vitest-config/fixtures";
import { describe, expect, it } from "vitest";
import { runCli } from "../program.js";
import { captureIO } from "../testing.js";

const golden = (name: string) => fileURLToPath(new URL(`../../../../tooling/golden/${name}`, import.meta.url));
const g = JSON.parse(readFileSync(golden("gpt2-lmhead-tiny.json"), "utf8"));

async function cli(args: string[]) {
  const io = captureIO();
  const code = await runCli(args, io);
  return { code, out: io.out(), err: io.err() };
}

describe("lowrank generate", () => {
  const base = fixturePath("hf-gpt2-lmhead-tiny");

  it("greedy with an adapter gives the NumPy reference tokens; text mode prints prompt + completion", async () => {
    const r = await cli([
      "generate",
      "--base",
      base,
      "--adapter",
      golden("adapters/gpt2-lmhead-tiny-lora"),
      "--prompt",
      "The quick brown fox",
      "--max-new-tokens",
      "6",
      "--json",
    ]);
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    const parsed = JSON.parse(r.out);
    expect(parsed.promptIds).toEqual(g.greedy_prompt_ids);
    expect(parsed.generatedIds).toEqual(g.greedy_adapter);
    expect(parsed.finishReason).toBe("length");
    const text = await cli(["generate", "--base", base, "--prompt", "The quick brown fox", "--max-new-tokens", "6"]);
    expect(text.code).toBe(0);
    expect(text.out.startsWith("The quick brown fox")).toBe(true);
  });

  it("sampling is repeatable with a seed", async () => {
    const args = [
      "generate",
      "--base",
      base,
      "--prompt",
      "Hello",
      "--max-new-tokens",
      "5",
      "--temperature",
      "1.2",
      "--top-k",
      "40",
      "--json",
    ];
    const a = JSON.parse((await cli([...args, "--seed", "11"])).out);
    const b = JSON.parse((await cli([...args, "--seed", "11"])).out);
    expect(a.generatedIds).toHaveLength(5);
    expect(a.generatedIds).toEqual(b.generatedIds);
  });

  it("exits 1 for a base without an LM head and 2 for malformed numbers", async () => {
    const headless = await cli(["generate", "--base", fixturePath("hf-gpt2-tiny"), "--prompt", " lower"]);
    expect(headless.code).toBe(1);
    expect(headless.err).toMatch(/expected a causal language model \(GPT2LMHeadModel\), found GPT2Model/);
    expect((await cli(["generate", "--base", base, "--prompt", "x", "--temperature", "-1"])).code).toBe(2);
    expect((await cli(["generate", "--base", base, "--prompt", "x", "--max-new-tokens", "1.5"])).code).toBe(2);
  });
});
