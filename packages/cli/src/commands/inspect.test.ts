import { spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { serializeGguf, serializeSafetensors } from "@lowrank/formats";
import { fixturePath } from "@lowrank/vitest-config/fixtures";
import { Command } from "commander";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../program.js";
import { captureIO } from "../testing.js";
import { naturalCompare, registerInspect } from "./inspect.js";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../..");
let tmp = "";
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), "lowrank-inspect-"));
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

/** Runs the command's action on a fresh Command, as the integrator wires it. */
async function inspectJson(p: string) {
  const io = captureIO();
  const program = new Command().exitOverride();
  registerInspect(program, io);
  await program.parseAsync(["inspect", p, "--json"], { from: "user" });
  const lines = io.out().trim().split("\n");
  expect(lines).toHaveLength(1);
  return JSON.parse(lines[0] as string);
}

describe("lowrank inspect", () => {
  it("a PEFT folder (tigrinya): 72 tensors, the config, the adapter digest", async () => {
    const r = await inspectJson(fixturePath("peft-gpt2-tigrinya-lora"));
    expect(Object.keys(r).sort()).toEqual(["config", "digest", "format", "metadata", "tensors", "totals"]);
    expect(r.format).toBe("peft");
    expect(r.tensors).toHaveLength(72);
    expect(r.tensors).toContainEqual({
      name: "base_model.model.transformer.h.0.attn.c_attn.lora_B.weight",
      dtype: "F32",
      shape: [2304, 8],
    });
    expect(r.config).toMatchObject({ r: 8, lora_alpha: 32 });
    expect(r.digest).toMatch(/^[0-9a-f]{64}$/);
  });

  it("a GGUF file: tensors with ggml types and ne dims, metadata with long arrays summarized", async () => {
    const r = await inspectJson(fixturePath("gguf-llama2-tiny-random", "llama-2-tiny-random.gguf"));
    expect(r.format).toBe("gguf");
    expect(r.tensors).toContainEqual({ name: "token_embd.weight", dtype: "F16", shape: [8, 32000] });
    // 2 × 8·32000 F16 embeddings, 7 F16 matrices of 64 or 256, 3 F32 norms of 8.
    expect(r.totals).toEqual({ tensors: 12, parameters: 513_048, bytes: 1_026_144 });
    expect(r.metadata["general.architecture"]).toBe("llama");
    expect(r.metadata["tokenizer.ggml.tokens"]).toMatchObject({ length: 32000 });
    expect(r.config).toBeNull();
  });

  it("GGUF u64/i64 metadata: always exact decimal strings, whatever the size (the documented form)", async () => {
    const file = path.join(tmp, "u64.gguf");
    await writeFile(
      file,
      serializeGguf({
        metadata: {
          "general.architecture": { type: "string", value: "llama" },
          "test.small": { type: "u64", value: 3n },
          "test.big": { type: "u64", value: 2n ** 64n - 1n },
          "test.neg": { type: "i64", value: -1n },
          "test.list": { type: "array", itemType: "u64", value: [1n, 2n ** 60n] },
          "test.u32": { type: "u32", value: 9 },
        },
        tensors: [],
      }),
    );
    const r = await inspectJson(file);
    expect(r.metadata).toMatchObject({
      "test.small": "3",
      "test.big": "18446744073709551615",
      "test.neg": "-1",
      "test.list": ["1", "1152921504606846976"],
      "test.u32": 9,
    });
  });

  it("a model folder (hf-gpt2-lmhead-tiny): config and the base manifest digest", async () => {
    const r = await inspectJson(fixturePath("hf-gpt2-lmhead-tiny"));
    expect(r.format).toBe("hf-model");
    expect(r.tensors).toHaveLength(16);
    expect(r.config.model_type).toBe("gpt2");
    expect(r.metadata.architecture).toBe("GPT2LMHeadModel");
  });

  it("a plain safetensors file and a kohya one, told apart by their keys", async () => {
    const plain = await inspectJson(fixturePath("hf-gpt2-tiny", "model.safetensors"));
    expect(plain.format).toBe("safetensors");
    expect(plain.metadata).toEqual({ format: "pt" });
    const t = { dtype: "F32" as const, shape: [2, 4], data: new Float32Array(8) };
    const kohya = path.join(tmp, "k.safetensors");
    await writeFile(
      kohya,
      serializeSafetensors({
        "lora_unet_mid_block_attentions_0_proj_in.lora_down.weight": t,
        "lora_unet_mid_block_attentions_0_proj_in.lora_up.weight": { ...t, shape: [4, 2] },
      }),
    );
    const k = await inspectJson(kohya);
    expect(k.format).toBe("kohya");
    expect(k.config.unet).toMatchObject({ r: 2, target_modules: ["mid_block.attentions.0.proj_in"] });
  });

  it("bad input: exit 1, one line on stderr, or {error:{code,message}} with --json", async () => {
    const io = captureIO();
    expect(
      await runCli(["inspect", fixturePath("gguf-llama2-tiny-random", "ollama-api-test-truncated.gguf"), "--json"], io),
    ).toBe(1);
    expect(JSON.parse(io.out())).toMatchObject({ error: { code: "Truncated" } });
    const plain = captureIO();
    expect(await runCli(["inspect", path.join(tmp, "missing")], plain)).toBe(1);
    expect(plain.err().trim().split("\n")).toHaveLength(1);
    expect(await runCli(["inspect"], captureIO())).toBe(2);
  });

  it("prints a readable table without --json", async () => {
    const io = captureIO();
    expect(await runCli(["inspect", fixturePath("peft-dialogpt-small-tiny-lora")], io)).toBe(0);
    expect(io.out()).toMatch(/^format {2}peft$/m);
    expect(io.out()).toContain('warning: adapter_config.json: unknown key "alpha"');
    expect(io.out()).toMatch(/24 tensors\n$/);
  });

  it("runs from the command line: npx tsx packages/cli/src/bin.ts inspect ... --json", () => {
    const r = spawnSync(
      "npx",
      [
        "tsx",
        "--conditions=@lowrank/source",
        "packages/cli/src/bin.ts",
        "inspect",
        fixturePath("peft-dialogpt-small-tiny-lora"),
        "--json",
      ],
      {
        cwd: repoRoot,
        encoding: "utf8",
        timeout: 60_000,
      },
    );
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.format).toBe("peft");
    expect(report.tensors).toHaveLength(24);
  }, 60_000);

  it("text mode shows GGUF metadata and totals; tensors come in natural order (h.2 before h.10)", async () => {
    const io = captureIO();
    expect(await runCli(["inspect", fixturePath("gguf-llama2-tiny-random", "llama-2-tiny-random.gguf")], io)).toBe(0);
    expect(io.out()).toMatch(/^totals {2}12 tensors, 513,048 parameters, 1002\.1 KiB \(1,026,144 bytes\)$/m);
    expect(io.out()).toMatch(/^ {2}general\.architecture +"llama"$/m);
    expect(io.out()).toMatch(/^ {2}llama\.attention\.head_count +2$/m);

    const file = path.join(tmp, "blocks.safetensors");
    const t = { dtype: "F32" as const, shape: [2], data: new Float32Array([1, 2]) };
    await writeFile(
      file,
      serializeSafetensors({ "h.10.w": t, "h.2.w": t, "h.1.w": t, "h.1.b": t, wte: t }, { k: "v" }),
    );
    const st = captureIO();
    expect(await runCli(["inspect", file], st)).toBe(0);
    const names = [...st.out().matchAll(/^(h\.\d+\.\w|wte)\s/gm)].map((m) => m[1]);
    expect(names).toEqual(["h.1.b", "h.1.w", "h.2.w", "h.10.w", "wte"]);
    expect(st.out()).toMatch(/^totals {2}5 tensors, 10 parameters, 40 bytes$/m);
    expect(st.out()).toMatch(/^ {2}k {2}"v"$/m);
    expect((await inspectJson(file)).tensors.map((x: { name: string }) => x.name)).toEqual(names);
  });

  it("natural order is a total order that sorts numbered names by their numbers", () => {
    fc.assert(
      fc.property(fc.nat(10_000), fc.nat(10_000), fc.constantFrom("h.", "layers.", "blk."), (a, b, prefix) => {
        const [x, y] = [`${prefix}${a}.w`, `${prefix}${b}.w`];
        const sign = (n: number) => Math.sign(n) || 0; // no -0
        expect(sign(naturalCompare(x, y))).toBe(sign(a - b));
        expect(sign(naturalCompare(y, x))).toBe(sign(-naturalCompare(x, y)));
      }),
    );
    expect(["a10", "a9", "a09", "b", "a"].sort(naturalCompare)).toEqual(["a", "a9", "a09", "a10", "b"]);
  });
});
