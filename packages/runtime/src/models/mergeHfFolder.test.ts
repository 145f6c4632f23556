import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fixturePath } from "@lowrank/vitest-config/fixtures";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mergeHfFolder } from "./mergeHfFolder.js";

describe("mergeHfFolder: an adapter for another base", () => {
  let tmp: string;
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), "lowrank-merge-fit-"));
  });
  afterAll(async () => rm(tmp, { recursive: true, force: true }));

  it("is refused with AdapterMismatch naming the layer and both shapes, and writes nothing", async () => {
    // DialoGPT-small's LoRA (n_embd 768, r 8) onto the tiny GPT-2 (n_embd 2): Conv1D c_attn is [2, 6].
    const out = join(tmp, "merged");
    const error = await mergeHfFolder(
      fixturePath("hf-gpt2-tiny"),
      fixturePath("peft-dialogpt-small-tiny-lora"),
      out,
    ).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "AdapterMismatch" });
    expect((error as Error).message).toMatch(
      /module transformer\.h\.0\.attn\.c_attn: expected lora_A \[8,2\] and lora_B \[6,8\] for conv1d weight \[2,6\], found \[8,768\] and \[2304,8\]/,
    );
    expect(existsSync(out)).toBe(false);
  });
});
