import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { type PeftAdapter, parseGguf, parseSafetensors, peftTensors, serializeSafetensors } from "@lowrank/formats";
import { readPeftFolder, writePeftFolder } from "@lowrank/formats/node";
import { fixturePath } from "@lowrank/vitest-config/fixtures";
import { Command } from "commander";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../program.js";
import { captureIO } from "../testing.js";
import { registerConvert } from "./convert.js";
import { readBytes } from "./detectInput.js";

let tmp = "";
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), "lowrank-convert-"));
});
afterAll(() => rm(tmp, { recursive: true, force: true }));
const tigrinya = fixturePath("peft-gpt2-tigrinya-lora");

async function run(args: string[]) {
  const io = captureIO();
  const code = await runCli(args, io);
  return { code, out: io.out(), err: io.err() };
}

function sameTensors(a: PeftAdapter, b: PeftAdapter) {
  const ta = peftTensors(a);
  const tb = peftTensors(b);
  expect(Object.keys(tb).sort()).toEqual(Object.keys(ta).sort());
  for (const [k, t] of Object.entries(ta)) {
    expect([tb[k]?.dtype, tb[k]?.shape], k).toEqual([t.dtype, t.shape]);
    expect(Buffer.compare(Buffer.from(tb[k]!.data), Buffer.from(t.data)), k).toBe(0);
  }
}

/** A two-layer Llama adapter (hidden 8, 2 heads, 1 KV head), values i/100. */
function llama(): PeftAdapter {
  const t = (shape: number[], k: number) => ({
    dtype: "F32" as const,
    shape,
    data: new Uint8Array(new Float32Array(shape[0]! * shape[1]!).map((_, i) => (i + k) / 100).buffer),
  });
  const modules: PeftAdapter["modules"] = {};
  let k = 0;
  for (let l = 0; l < 2; l++)
    for (const [m, nIn, nOut] of [
      ["self_attn.q_proj", 8, 8],
      ["self_attn.k_proj", 8, 4],
      ["mlp.down_proj", 12, 8],
    ] as const)
      modules[`model.layers.${l}.${m}`] = { kind: "lora", A: t([2, nIn], k++), B: t([nOut, 2], k++) };
  return {
    config: {
      peft_type: "LORA",
      r: 2,
      lora_alpha: 4,
      target_modules: ["q_proj", "k_proj", "down_proj"],
      fan_in_fan_out: false,
      rank_pattern: {},
      alpha_pattern: {},
      modules_to_save: null,
      use_rslora: false,
      base_model_name_or_path: null,
      task_type: "CAUSAL_LM",
    },
    modules,
    modulesToSave: {},
    otherTensors: {},
    metadata: { format: "pt" },
    modelCard: null,
  };
}
const LLAMA_CONFIG = {
  architectures: ["LlamaForCausalLM"],
  model_type: "llama",
  hidden_size: 8,
  intermediate_size: 12,
  num_hidden_layers: 2,
  num_attention_heads: 2,
  num_key_value_heads: 1,
  vocab_size: 32,
};

describe("lowrank convert", () => {
  it("PEFT -> GGUF -> PEFT for a Llama adapter, head counts from --base (which also checks shapes)", async () => {
    const src = path.join(tmp, "llama-peft");
    await writePeftFolder(src, llama());
    await writeFile(path.join(tmp, "config.json"), JSON.stringify(LLAMA_CONFIG));
    const gguf = path.join(tmp, "llama.gguf");
    const a = await run(["convert", src, gguf, "--base", path.join(tmp, "config.json")]);
    expect(a.err).toBe("");
    expect(a.code).toBe(0);
    expect(a.out).toMatch(/^wrote gguf .*llama\.gguf \(12 tensors\)\n$/);
    const file = parseGguf(await readBytes(gguf));
    expect(file.getString("general.type")).toBe("adapter");
    expect(file.info("blk.1.ffn_down.weight.lora_a").dims).toEqual([12, 2]);
    const back = path.join(tmp, "llama-back");
    expect((await run(["convert", gguf, back, "--heads", "2", "--kv-heads", "1"])).code).toBe(0);
    const backAdapter = (await readPeftFolder(back)).adapter;
    sameTensors(llama(), backAdapter);
    expect(backAdapter.modelCard?.data).toMatchObject({ library_name: "peft", tags: ["lora"] });
  });

  it("in-process on a fresh Command: tigrinya PEFT -> kohya -> PEFT keeps every tensor and r/alpha", async () => {
    const io = captureIO();
    const program = new Command().exitOverride();
    registerConvert(program, io);
    const kohya = path.join(tmp, "tigrinya-kohya.safetensors");
    await program.parseAsync(["convert", tigrinya, kohya, "--to", "kohya", "--json"], { from: "user" });
    expect(JSON.parse(io.out())).toMatchObject({ format: "kohya", tensors: 108, warnings: [] });
    const back = path.join(tmp, "tigrinya-back");
    expect((await run(["convert", kohya, back, "--to", "peft"])).code).toBe(0);
    const original = (await readPeftFolder(tigrinya)).adapter;
    const roundTrip = (await readPeftFolder(back)).adapter;
    sameTensors(original, roundTrip);
    expect(roundTrip.config).toMatchObject({ r: 8, lora_alpha: 32, rank_pattern: {}, alpha_pattern: {} });
  });

  it("--dtype f16 re-encodes the factors (values within f16 rounding)", async () => {
    const out = path.join(tmp, "tigrinya-f16");
    expect((await run(["convert", tigrinya, out, "--dtype", "f16"])).code).toBe(0);
    const half = (await readPeftFolder(out)).adapter.modules["transformer.h.0.attn.c_attn"]!.A;
    const full = (await readPeftFolder(tigrinya)).adapter.modules["transformer.h.0.attn.c_attn"]!.A;
    expect(half.dtype).toBe("F16");
    expect(half.data.length * 2).toBe(full.data.length);
  });

  it("exit 1 with one line for bad input (GPT-2 modules have no llama GGUF name, wrong base, existing OUT); exit 2 for usage", async () => {
    const gguf = await run(["convert", tigrinya, path.join(tmp, "gpt2.gguf"), "--arch", "llama"]);
    expect(gguf.code).toBe(1);
    expect(gguf.err).toMatch(/^lowrank: gguf lora: expected llama modules .*transformer\.h\.0\.attn\.c_attn\n$/);
    await writeFile(
      path.join(tmp, "gpt2-512.json"),
      JSON.stringify({
        architectures: ["GPT2LMHeadModel"],
        model_type: "gpt2",
        n_embd: 512,
        n_layer: 12,
        vocab_size: 50257,
      }),
    );
    const wrong = await run([
      "convert",
      tigrinya,
      path.join(tmp, "never"),
      "--base",
      path.join(tmp, "gpt2-512.json"),
      "--json",
    ]);
    expect(wrong.code).toBe(1);
    expect(JSON.parse(wrong.out).error.code).toBe("ShapeMismatch");
    const exists = await run(["convert", tigrinya, path.join(tmp, "tigrinya-f16")]);
    expect(exists.code).toBe(1);
    expect(exists.err).toContain("--force");
    expect((await run(["convert", tigrinya, path.join(tmp, "x"), "--to", "onnx"])).code).toBe(2);
    expect((await run(["convert", tigrinya, path.join(tmp, "x"), "--heads", "two"])).code).toBe(2);
    expect((await run(["convert", tigrinya])).code).toBe(2);
    expect((await readdir(tmp)).filter((n) => n.includes(".tmp-"))).toEqual([]);
  });

  it("GGUF (issue 10 item 20): GPT-2 by default, head counts read from the file, one rounding, embedding LoRA, bias refused", async () => {
    // tigrinya is a GPT-2 adapter: its architecture comes from the module names.
    const gpt2 = path.join(tmp, "tigrinya.gguf");
    expect((await run(["convert", tigrinya, gpt2])).code).toBe(0);
    const g = parseGguf(await readBytes(gpt2));
    expect(g.getString("general.architecture")).toBe("gpt2");
    expect(g.info("blk.0.attn_qkv.weight.lora_b").dims).toEqual([8, 2304]);
    const gpt2Back = path.join(tmp, "tigrinya-from-gguf");
    expect((await run(["convert", gpt2, gpt2Back])).code).toBe(0);
    sameTensors((await readPeftFolder(tigrinya)).adapter, (await readPeftFolder(gpt2Back)).adapter);

    // A llama file lowrank wrote carries its head counts: no --heads on the way back.
    const src = path.join(tmp, "llama-peft-heads");
    await writePeftFolder(src, llama());
    const gguf = path.join(tmp, "llama-heads.gguf");
    expect((await run(["convert", src, gguf, "--heads", "2", "--kv-heads", "1"])).code).toBe(0);
    const back = path.join(tmp, "llama-heads-back");
    const r = await run(["convert", gguf, back]);
    expect(r.err).toBe("");
    sameTensors(llama(), (await readPeftFolder(back)).adapter);

    // --dtype f16 with a folded alpha: F32 B x 3 rounded once to F16 (numpy's float64 -> float16).
    const folded = llama();
    folded.config = { ...folded.config, alpha_pattern: { down_proj: 12 } };
    const v = [0.62654048204422, 0.8701448440551758, -0.9328288435935974];
    const down = folded.modules["model.layers.0.mlp.down_proj"]!;
    down.B = {
      dtype: "F32",
      shape: down.B.shape,
      data: new Uint8Array(new Float32Array(16).map((_, i) => v[i % 3]!).buffer),
    };
    const foldedSrc = path.join(tmp, "llama-folded");
    await writePeftFolder(foldedSrc, folded);
    const half = path.join(tmp, "llama-folded.gguf");
    expect((await run(["convert", foldedSrc, half, "--dtype", "f16", "--heads", "2", "--kv-heads", "1"])).code).toBe(0);
    const b = parseGguf(await readBytes(half)).getTensor("blk.0.ffn_down.weight.lora_b").data;
    expect([...new Uint16Array(b.slice().buffer).subarray(0, 3)]).toEqual([0x3f85, 0x4139, 0xc199]);

    // A GGUF LoRA on token_embd (written by llama.cpp's gguf-py) becomes PEFT's embedding LoRA.
    const embd = path.join(tmp, "embd-peft");
    const e = await run([
      "convert",
      fixturePath("gguf-lora-gguf-py", "llama-lora-embd-q-down.gguf"),
      embd,
      "--heads",
      "2",
    ]);
    expect(e.err).toBe("");
    const keys = Object.keys(peftTensors((await readPeftFolder(embd)).adapter));
    expect(keys).toContain("base_model.model.model.embed_tokens.lora_embedding_A");
    expect(keys).toContain("base_model.model.model.embed_tokens.lora_embedding_B");

    // lora_B.bias cannot go into GGUF: refused with the reason.
    const biased = llama();
    biased.config = { ...biased.config, lora_bias: true };
    const q = biased.modules["model.layers.0.self_attn.q_proj"]!;
    q.bias = { dtype: "F32", shape: [8], data: new Uint8Array(32) };
    const biasedSrc = path.join(tmp, "llama-bias");
    await writePeftFolder(biasedSrc, biased);
    const refused = await run(["convert", biasedSrc, path.join(tmp, "bias.gguf"), "--heads", "2", "--json"]);
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.out).error).toMatchObject({
      code: "InvalidConfig",
      message: expect.stringContaining("lora_B.bias"),
    });
  });

  it("kohya -> PEFT -> kohya keeps sd-scripts metadata and SDXL module names (issue 10 item 19)", async () => {
    const t = (shape: number[]) => ({
      dtype: "F32" as const,
      shape,
      data: new Float32Array(shape[0]! * shape[1]!).fill(0.25),
    });
    const key = "lora_unet_input_blocks_4_1_transformer_blocks_0_attn1_to_q";
    const metadata = {
      ss_network_module: "networks.lora",
      ss_network_dim: "2",
      "modelspec.title": "x",
      sshs_model_hash: "ab",
    };
    const kohya = path.join(tmp, "sdxl-kohya.safetensors");
    await writeFile(
      kohya,
      serializeSafetensors(
        {
          [`${key}.lora_down.weight`]: t([2, 8]),
          [`${key}.lora_up.weight`]: t([8, 2]),
          [`${key}.alpha`]: { dtype: "F32", shape: [], data: new Float32Array([0]) },
        },
        metadata,
      ),
    );
    const peft = path.join(tmp, "sdxl-peft");
    const a = await run(["convert", kohya, peft, "--json"]);
    expect(JSON.parse(a.out).warnings).toEqual([]);
    const adapter = (await readPeftFolder(path.join(peft))).adapter;
    expect(Object.keys(adapter.modules)).toEqual(["input_blocks.4.1.transformer_blocks.0.attn1.to_q"]);
    expect(adapter.config.lora_alpha).toBe(2); // .alpha 0: alpha = rank
    const back = path.join(tmp, "sdxl-back.safetensors");
    expect((await run(["convert", peft, back, "--to", "kohya"])).code).toBe(0);
    const file = parseSafetensors(await readBytes(back));
    expect(file.metadata).toEqual(metadata);
    expect(file.names().sort()).toEqual([`${key}.alpha`, `${key}.lora_down.weight`, `${key}.lora_up.weight`]);
  });

  it("errors and warnings name the CLI's flags: --heads/--kv-heads, --base, --force (not headCount, moduleNames, overwrite)", async () => {
    const src = path.join(tmp, "llama-flags");
    await writePeftFolder(src, llama());
    const noHeads = await run(["convert", src, path.join(tmp, "flags.gguf")]);
    expect(noHeads.code).toBe(1);
    expect(noHeads.err).toContain("give --heads / --kv-heads, or --base");
    expect(noHeads.err).not.toMatch(/headCount/);
    const kohya = path.join(tmp, "flags-kohya.safetensors");
    expect((await run(["convert", tigrinya, kohya, "--to", "kohya"])).code).toBe(0);
    const back = await run(["convert", kohya, path.join(tmp, "flags-back"), "--to", "peft", "--json"]);
    expect(back.code).toBe(0);
    const warnings = JSON.parse(back.out).warnings as string[];
    expect(warnings.some((w) => w.includes("(give --base to be exact)"))).toBe(true);
    expect(warnings.join("\n")).not.toMatch(/moduleNames/);
    const exists = await run(["convert", tigrinya, kohya, "--to", "kohya"]);
    expect(exists.code).toBe(1);
    expect(exists.err).toMatch(/\(use --force to replace it\)\n$/);
  });
});
