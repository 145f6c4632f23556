import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { encodeFromFloat32, parseSafetensors, serializeSafetensors, toFloat32 } from "@lowrank/formats";
import { fixturePath } from "@lowrank/vitest-config/fixtures";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../program.js";
import { captureIO } from "../testing.js";

const golden = (name: string) => fileURLToPath(new URL(`../../../../tooling/golden/${name}`, import.meta.url));

async function cli(args: string[]) {
  const io = captureIO();
  const code = await runCli(args, io);
  return { code, out: io.out(), err: io.err() };
}

async function logits(args: string[]): Promise<number[]> {
  const r = await cli(["forward", ...args, "--json"]);
  expect(r.err).toBe("");
  return JSON.parse(r.out).logits.flat();
}

function expectClose(actual: number[], expected: number[], rtol: number, atol: number) {
  expect(actual.length).toBe(expected.length);
  const bad = actual
    .map((a, i) => [i, a, expected[i] as number])
    .filter(([, a, e]) => !(Math.abs((a as number) - (e as number)) <= rtol * Math.abs(e as number) + atol));
  expect(bad.slice(0, 5)).toEqual([]);
}

describe("lowrank merge", () => {
  let tmp: string;
  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), "lowrank-merge-"));
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  for (const [fixture, adapter, ids] of [
    ["hf-gpt2-lmhead-tiny", "gpt2-lmhead-tiny-lora", "464,2068,7586,21831"],
    ["hf-gpt2-tiny", "gpt2-tiny-lora", "3,7,1,20,0"],
    ["hf-bert-tiniest", "bert-tiniest-lora", "101,7592,2088,102"],
  ] as const) {
    it(`forward(merged) equals forward(base + adapter) for ${fixture}`, async () => {
      const out = path.join(tmp, `${fixture}-merged`);
      const r = await cli([
        "merge",
        "--base",
        fixturePath(fixture),
        "--adapter",
        `${golden(`adapters/${adapter}`)}:0.75`,
        "--out",
        out,
        "--json",
      ]);
      expect(r.err).toBe("");
      expect(r.code).toBe(0);
      expect(JSON.parse(r.out).modules.length).toBeGreaterThan(0);
      const merged = await logits(["--base", out, "--input-ids", ids]);
      const withAdapter = await logits([
        "--base",
        fixturePath(fixture),
        "--adapter",
        `${golden(`adapters/${adapter}`)}:0.75`,
        "--input-ids",
        ids,
      ]);
      const plain = await logits(["--base", fixturePath(fixture), "--input-ids", ids]);
      expectClose(merged, withAdapter, 1e-4, 1e-6);
      expect(merged.some((v, i) => Math.abs(v - (plain[i] as number)) > 1e-4)).toBe(true);
      // The model's other files are copied (configs, tokenizer, license), not the base's notes and listings;
      // no temporary folder is left behind, and the folder has the mode any new folder gets here.
      const files = (await readdir(out)).sort();
      const modelFiles = (await readdir(fixturePath(fixture))).filter(
        (f) => (f !== "SOURCE.md" && !f.endsWith(".txt")) || f === "merges.txt" || f === "vocab.txt",
      );
      expect(files).toEqual(modelFiles.sort());
      expect(files).not.toContain("SOURCE.md");
      expect(files).not.toContain("model.TENSORS.txt");
      expect(files).toContain("config.json");
      expect((await readdir(tmp)).filter((f) => f.includes(".tmp-"))).toEqual([]);
      const reference = path.join(tmp, `${fixture}-reference`);
      await mkdir(reference);
      expect((await stat(out)).mode & 0o777).toBe((await stat(reference)).mode & 0o777);
    });
  }

  it("changes only the adapted weights, by exactly scale·alpha/r·(B·A)ᵀ (hand loop)", async () => {
    const out = path.join(tmp, "exact");
    expect(
      (
        await cli([
          "merge",
          "--base",
          fixturePath("hf-gpt2-tiny"),
          "--adapter",
          golden("adapters/gpt2-tiny-lora"),
          "--out",
          out,
        ])
      ).code,
    ).toBe(0);
    const before = parseSafetensors(new Uint8Array(await readFile(fixturePath("hf-gpt2-tiny", "model.safetensors"))));
    const after = parseSafetensors(new Uint8Array(await readFile(path.join(out, "model.safetensors"))));
    const lora = parseSafetensors(
      new Uint8Array(await readFile(golden("adapters/gpt2-tiny-lora/adapter_model.safetensors"))),
    );
    const config = JSON.parse(await readFile(golden("adapters/gpt2-tiny-lora/adapter_config.json"), "utf8"));
    const scaling = config.lora_alpha / config.r;
    for (const name of before.names()) {
      const w0 = toFloat32(before.getTensor(name));
      const w1 = toFloat32(after.getTensor(name));
      const module = name.replace(/\.weight$/, "");
      if (!lora.has(`base_model.model.${module}.lora_A.weight`)) {
        expect(Buffer.compare(Buffer.from(before.getTensor(name).data), Buffer.from(after.getTensor(name).data))).toBe(
          0,
        );
        continue;
      }
      const a = toFloat32(lora.getTensor(`base_model.model.${module}.lora_A.weight`));
      const b = toFloat32(lora.getTensor(`base_model.model.${module}.lora_B.weight`));
      const [fin, fout] = before.getTensor(name).shape as [number, number];
      const r = a.length / fin;
      for (let i = 0; i < fin; i++)
        for (let o = 0; o < fout; o++) {
          let d = 0;
          for (let k = 0; k < r; k++) d += (b[o * r + k] as number) * (a[k * fin + i] as number);
          expect(w1[i * fout + o]).toBeCloseTo((w0[i * fout + o] as number) + scaling * d, 5);
        }
    }
  });

  it("takes modules_to_save copies whole (as merge_and_unload does); forward refuses what it cannot batch", async () => {
    const dir = path.join(tmp, "with-saved");
    await mkdir(dir);
    const config = JSON.parse(await readFile(golden("adapters/gpt2-tiny-lora/adapter_config.json"), "utf8"));
    await writeFile(path.join(dir, "adapter_config.json"), JSON.stringify({ ...config, modules_to_save: ["ln_f"] }));
    const lora = parseSafetensors(
      new Uint8Array(await readFile(golden("adapters/gpt2-tiny-lora/adapter_model.safetensors"))),
    );
    const tensors: Record<string, { dtype: "F32"; shape: readonly number[]; data: Uint8Array }> = {};
    for (const name of lora.names()) tensors[name] = lora.getTensor(name) as (typeof tensors)[string];
    const lnW = [1.5, -0.5];
    const lnB = [0.25, 0.125];
    tensors["base_model.model.ln_f.weight"] = { dtype: "F32", shape: [2], data: encodeFromFloat32("F32", lnW) };
    tensors["base_model.model.ln_f.bias"] = { dtype: "F32", shape: [2], data: encodeFromFloat32("F32", lnB) };
    await writeFile(path.join(dir, "adapter_model.safetensors"), serializeSafetensors(tensors));

    const out = path.join(tmp, "with-saved-merged");
    const r = await cli(["merge", "--base", fixturePath("hf-gpt2-tiny"), "--adapter", dir, "--out", out, "--json"]);
    expect(r.err).toBe("");
    const report = JSON.parse(r.out);
    expect(report.saved.sort()).toEqual(["ln_f.bias", "ln_f.weight"]);
    expect(report.biases).toEqual([]);
    const merged = parseSafetensors(new Uint8Array(await readFile(path.join(out, "model.safetensors"))));
    const key = (n: string) => merged.names().find((k) => k === n || k.endsWith(`.${n}`)) as string;
    expect(Array.from(toFloat32(merged.getTensor(key("ln_f.weight"))))).toEqual(lnW);
    expect(Array.from(toFloat32(merged.getTensor(key("ln_f.bias"))))).toEqual(lnB);

    const fwd = await cli(["forward", "--base", fixturePath("hf-gpt2-tiny"), "--adapter", dir, "--input-ids", "3,7"]);
    expect(fwd.code).toBe(1);
    expect(fwd.err).toMatch(/modules_to_save copy of the whole module 'ln_f'.*lowrank merge/);
  });

  it("keeps an F16 base in F16", async () => {
    const src = parseSafetensors(new Uint8Array(await readFile(fixturePath("hf-gpt2-tiny", "model.safetensors"))));
    const f16 = path.join(tmp, "gpt2-f16");
    await mkdir(f16);
    const tensors: Record<string, { dtype: "F16"; shape: readonly number[]; data: Uint8Array }> = {};
    for (const name of src.names())
      tensors[name] = {
        dtype: "F16",
        shape: src.getTensor(name).shape,
        data: encodeFromFloat32("F16", toFloat32(src.getTensor(name))),
      };
    await writeFile(path.join(f16, "model.safetensors"), serializeSafetensors(tensors));
    await copyFile(fixturePath("hf-gpt2-tiny", "config.json"), path.join(f16, "config.json"));
    const out = path.join(tmp, "gpt2-f16-merged");
    expect(
      (await cli(["merge", "--base", f16, "--adapter", golden("adapters/gpt2-tiny-lora"), "--out", out])).code,
    ).toBe(0);
    const merged = parseSafetensors(new Uint8Array(await readFile(path.join(out, "model.safetensors"))));
    expect(new Set(merged.names().map((n) => merged.getTensor(n).dtype))).toEqual(new Set(["F16"]));
    // F16 rounding of the merged weights: about 1e-3 relative.
    expectClose(
      await logits(["--base", out, "--input-ids", "3,7,1"]),
      await logits(["--base", f16, "--adapter", golden("adapters/gpt2-tiny-lora"), "--input-ids", "3,7,1"]),
      1e-2,
      1e-2,
    );
  });

  it("refuses an existing --out (exit 1) unless --force, and a mismatched adapter", async () => {
    const out = path.join(tmp, "exists");
    await mkdir(out);
    const r = await cli([
      "merge",
      "--base",
      fixturePath("hf-gpt2-tiny"),
      "--adapter",
      golden("adapters/gpt2-tiny-lora"),
      "--out",
      out,
    ]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      /^lowrank: --out: expected a path that does not exist yet, found .* \(use --force to replace it\)\n$/,
    );
    expect(
      (
        await cli([
          "merge",
          "--base",
          fixturePath("hf-gpt2-tiny"),
          "--adapter",
          golden("adapters/gpt2-tiny-lora"),
          "--out",
          out,
          "--force",
        ])
      ).code,
    ).toBe(0);
    expect((await readdir(out)).includes("model.safetensors")).toBe(true);
    const bad = await cli([
      "merge",
      "--base",
      fixturePath("hf-gpt2-tiny"),
      "--adapter",
      golden("adapters/bert-tiniest-lora"),
      "--out",
      path.join(tmp, "bad"),
    ]);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/expected 'bert.encoder.layer.0.attention.self.query.weight' in the base/);
    expect((await readdir(tmp)).filter((f) => f.includes(".tmp-") || f === "bad")).toEqual([]);
    expect((await cli(["merge", "--base", fixturePath("hf-gpt2-tiny"), "--out", path.join(tmp, "x")])).code).toBe(2);
  });
});
