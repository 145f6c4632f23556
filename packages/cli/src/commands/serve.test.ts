import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createSyntheticCausalLm, syntheticPeftFiles } from "@lowrank/runtime";
import { fixturePath } from "@lowrank/vitest-config/fixtures";
import { describe, expect, it } from "vitest";
import { runCli } from "../program.js";
import { captureIO } from "../testing.js";

/** The fields of `lowrank serve`'s JSON answers these tests read. */
interface ServeAnswer {
  generated: number[];
  shape: number[];
  output: number[];
  error: { code: string };
}

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../..");

describe("lowrank serve", () => {
  it("serves synthetic:lm with a folder of adapters on an ephemeral loopback port and stops on SIGTERM", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "lowrank-cli-serve-"));
    try {
      // the same synthetic base the command builds, to write an adapter that fits it
      const shape = createSyntheticCausalLm({ id: "synthetic:lm", vocab: 256, dim: 64, layers: 2 });
      const files = syntheticPeftFiles(shape, { rank: 4, seed: 9, alpha: 64 });
      shape.dispose();
      await mkdir(path.join(dir, "poet"));
      await writeFile(path.join(dir, "poet", "adapter_config.json"), files.config);
      await writeFile(path.join(dir, "poet", "adapter_model.safetensors"), files.weights);
      const io = captureIO();
      const exit = runCli(
        ["serve", "--base", "synthetic:lm", "--adapters", dir, "--port", "0", "--backend", "wasm"],
        io,
      );
      let url: string | undefined;
      for (let i = 0; i < 200 && !url; i++) {
        url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(io.out())?.[1];
        if (!url) await new Promise((r) => setTimeout(r, 10));
      }
      expect(url, io.err()).toBeDefined();
      const post = async (route: string, body: unknown) =>
        (await fetch(url + route, { method: "POST", body: JSON.stringify(body) })).json() as Promise<ServeAnswer>;
      const list = (await (await fetch(`${url}/v1/adapters`)).json()) as {
        adapters: Array<{ name: string; loaded: unknown[] }>;
      };
      expect(list.adapters).toEqual([expect.objectContaining({ name: "poet", loaded: [] })]);
      const plain = await post("/v1/generate", { input_ids: [5, 6, 7], max_new_tokens: 3 });
      const tuned = await post("/v1/generate", { adapter: "poet", scale: 4, input_ids: [5, 6, 7], max_new_tokens: 3 });
      expect(plain.generated).toHaveLength(3);
      expect(tuned.generated).not.toEqual(plain.generated);
      const fwd = await post("/v1/forward", { adapter: "poet", input_ids: [1, 2] });
      expect(fwd.shape).toEqual([2, 256]);
      const bad = await post("/v1/forward", { adapter: "nobody", input_ids: [1] });
      expect(bad.error.code).toBe("NotFound");
      process.emit("SIGTERM");
      expect(await exit).toBe(0);
      expect(io.out()).toContain("lowrank serve: stopped");
      await expect(fetch(`${url}/healthz`)).rejects.toThrow();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("serves a real Hugging Face GPT-2 folder; each response equals `lowrank forward` for the same adapter", async () => {
    const base = fixturePath("hf-gpt2-lmhead-tiny");
    const adapters = path.join(repoRoot, "tooling", "golden", "adapters");
    const io = captureIO();
    const exit = runCli(["serve", "--base", base, "--adapters", adapters, "--port", "0", "--backend", "wasm"], io);
    try {
      let url: string | undefined;
      for (let i = 0; i < 500 && !url; i++) {
        url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(io.out())?.[1];
        if (!url) await new Promise((r) => setTimeout(r, 10));
      }
      expect(url, io.err()).toBeDefined();
      const post = async (body: unknown) =>
        (await (
          await fetch(`${url}/v1/forward`, { method: "POST", body: JSON.stringify(body) })
        ).json()) as ServeAnswer;
      for (const [adapter, scale] of [
        ["gpt2-lmhead-tiny-lora", 0.5],
        ["__base__", 1],
      ] as const) {
        const served = await post({ adapter, scale, input_ids: [3, 1, 4, 1, 5] });
        const cli = captureIO();
        const spec = adapter === "__base__" ? [] : ["--adapter", `${path.join(adapters, adapter)}:${scale}`];
        expect(await runCli(["forward", "--base", base, ...spec, "--input-ids", "3,1,4,1,5", "--json"], cli)).toBe(0);
        const expected = JSON.parse(cli.out()).logits as number[][];
        const got = served.output as number[];
        expect(served.shape).toEqual([5, expected[0]!.length]);
        const flat = expected.flat();
        let worst = 0;
        for (let i = 0; i < flat.length; i++) worst = Math.max(worst, Math.abs(flat[i]! - got[i]!));
        expect(worst).toBeLessThan(1e-4);
      }
      // The same server speaks OpenAI's API: the folder name is the base model, each adapter a model.
      const models = (await (await fetch(`${url}/v1/models`)).json()) as { data: Array<{ id: string }> };
      expect(models.data.map((m) => m.id)).toContain("hf-gpt2-lmhead-tiny");
      expect(models.data.map((m) => m.id)).toContain("gpt2-lmhead-tiny-lora");
      const done = (await (
        await fetch(`${url}/v1/completions`, {
          method: "POST",
          body: JSON.stringify({ model: "gpt2-lmhead-tiny-lora", prompt: [3, 1, 4], max_tokens: 3, temperature: 0 }),
        })
      ).json()) as { usage: unknown };
      expect(done.usage).toEqual({ prompt_tokens: 3, completion_tokens: 3, total_tokens: 6 });
    } finally {
      process.emit("SIGTERM");
      expect(await exit).toBe(0);
    }
  });

  it("refuses a base that is neither a folder nor a synthetic model, with exit code 1", async () => {
    const io = captureIO();
    expect(await runCli(["serve", "--base", "/no/such/model", "--port", "0", "--backend", "wasm"], io)).toBe(1);
    expect(io.err()).toContain("--base: expected a Hugging Face model folder");
  });
});
