import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { readPeftFolder } from "@lowrank/formats/node";
import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import { runCli } from "../program.js";
import { captureIO } from "../testing.js";

const recipes = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../test/recipes");

describe("lowrank train", () => {
  it("--json prints one line per step and a summary; same seed, same losses; --out writes a PEFT folder", async () => {
    const out = path.join(await mkdtemp(path.join(os.tmpdir(), "lowrank-train-")), "adapter");
    try {
      const runs: number[][] = [];
      const before = tf.memory().numTensors;
      for (let i = 0; i < 2; i++) {
        const io = captureIO();
        const code = await runCli(
          [
            "train",
            "tiny",
            "--recipes",
            recipes,
            "--epochs",
            "3",
            "--seed",
            "4",
            "--rank",
            "3",
            "--json",
            "--out",
            out,
            ...(i > 0 ? ["--force"] : []),
          ],
          io,
        );
        expect(io.err()).toBe("");
        expect(code).toBe(0);
        const lines = io
          .out()
          .trim()
          .split("\n")
          .map((l) => JSON.parse(l));
        const steps = lines.filter((l) => l.event === "step");
        expect(steps).toHaveLength(3 * 4);
        expect(steps[0]).toMatchObject({ step: 0, epoch: 0 });
        const done = lines.at(-1);
        expect(done).toMatchObject({ event: "done", recipe: "tiny", rank: 3, epochs: 3, steps: 12 });
        expect(done.finalLoss).toBeLessThan(done.firstLoss);
        expect(done.parameters.trainable).toBe(8 * 3 + 3 * 16 + 16 * 3 + 3 * 3);
        runs.push(steps.map((s: { loss: number }) => s.loss));
      }
      expect(runs[1]).toEqual(runs[0]);
      // Data, base model, adapters and optimizer are all freed after each run.
      expect(tf.memory().numTensors).toBe(before);
      const { adapter, warnings } = await readPeftFolder(out);
      expect(warnings).toEqual([]);
      expect(adapter.config).toMatchObject({ peft_type: "LORA", r: 3, lora_alpha: 6, target_modules: ["fc1", "head"] });
      expect(Object.keys(adapter.modules).sort()).toEqual(["fc1", "head"]);
      const fc1 = adapter.modules.fc1;
      const head = adapter.modules.head;
      expect(fc1?.kind).toBe("lora");
      expect([fc1?.A.shape, fc1?.B.shape, head?.A.shape, head?.B.shape]).toEqual([
        [3, 8],
        [16, 3],
        [3, 16],
        [3, 3],
      ]);
      // Trained: B starts at zero (PEFT init), so some of its F32 bytes must have moved.
      expect(head?.B.dtype).toBe("F32");
      expect(head?.B.data.some((v) => v !== 0)).toBe(true);
      expect(Object.keys(adapter.otherTensors)).toEqual([]);
    } finally {
      await rm(path.dirname(out), { recursive: true, force: true });
    }
  });

  it("plain output summarizes; unknown recipe exits 1 with a reason", async () => {
    const io = captureIO();
    expect(await runCli(["train", "tiny", "--recipes", recipes], io)).toBe(0);
    expect(io.out()).toMatch(/tiny: r=2, alpha=4, 2 epoch\(s\), 8 steps, loss [\d.]+ -> [\d.]+/);
    expect(io.out()).toMatch(/accuracy/);
    const bad = captureIO();
    expect(await runCli(["train", "nope", "--recipes", recipes], bad)).toBe(1);
    expect(bad.err()).toBe(`lowrank: recipe: expected one of tiny (in ${recipes}), found "nope"\n`);
  });

  it("validates every option before any work, in one message style (exit 2, nothing printed on stdout)", async () => {
    for (const [flag, value, expected] of [
      ["--rank", "0", "an integer >= 1"],
      ["--rank", "-1", "an integer >= 1"],
      ["--batch-size", "0", "an integer >= 1"],
      ["--epochs", "0", "an integer >= 1"],
      ["--epochs", "1.5", "an integer >= 1"],
      ["--lr", "-1", "a number > 0"],
      ["--lr", "0", "a number > 0"],
      ["--alpha", "0", "a number > 0"],
      ["--seed", "x", "an integer >= 0"],
    ] as const) {
      const io = captureIO();
      expect(await runCli(["train", "tiny", "--recipes", recipes, flag, value], io), `${flag} ${value}`).toBe(2);
      expect(io.err()).toBe(`lowrank: ${flag}: expected ${expected}, found "${value}"\n`);
      expect(io.out()).toBe("");
    }
    const empty = captureIO();
    expect(await runCli(["train", "tiny", "--recipes", recipes, "--target-modules", "fc1,,head"], empty)).toBe(2);
    expect(empty.err()).toMatch(/^lowrank: --target-modules: expected comma-separated names/);
  });

  it("reports every phase, base training included; --help and the unknown-recipe error list the recipes", async () => {
    const io = captureIO();
    expect(await runCli(["train", "tiny", "--recipes", recipes, "--json", "--epochs", "1"], io)).toBe(0);
    const events = io
      .out()
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(events.filter((e) => e.event === "phase").map((e) => e.phase)).toEqual(["data", "base", "adapter"]);
    const base = events.filter((e) => e.event === "base-step");
    expect(base.map((e) => e.step)).toEqual([0, 1, 2, 3]);
    expect(base[0]).toMatchObject({ totalSteps: 4, loss: expect.any(Number) });
    // The base phase's steps come before the adapter phase starts.
    expect(events.findIndex((e) => e.event === "base-step")).toBeLessThan(
      events.findIndex((e) => e.phase === "adapter"),
    );
    const plain = captureIO();
    expect(await runCli(["train", "tiny", "--recipes", recipes, "--epochs", "1"], plain)).toBe(0);
    expect(plain.out()).toMatch(/^loading the data\.\.\.\nbuilding the base model\.\.\.\nbase step 1\/4 loss/);
    expect(plain.out()).toContain("\ntraining the adapter...\nadapter step 1/4 loss");
    const help = captureIO();
    expect(await runCli(["train", "--help"], help)).toBe(0);
    expect(help.out()).toMatch(/Recipes \(examples\/src\/recipes\): language, mnist, sentiment, translation/);
    expect(help.out()).toMatch(/--alpha <x>/);
    expect(help.out()).toMatch(/--target-modules <names>/);
  });

  it("--alpha and --target-modules override the recipe's LoRA config", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "lowrank-train-alpha-"));
    try {
      const out = path.join(dir, "a");
      const io = captureIO();
      const argv = ["train", "tiny", "--recipes", recipes, "--epochs", "1", "--rank", "3", "--alpha", "5"];
      expect(await runCli([...argv, "--target-modules", "fc1", "--out", out, "--json"], io)).toBe(0);
      const { adapter } = await readPeftFolder(out);
      expect(adapter.config).toMatchObject({ r: 3, lora_alpha: 5, target_modules: ["fc1"] });
      expect(Object.keys(adapter.modules)).toEqual(["fc1"]);
      expect(JSON.parse(io.out().trim().split("\n").at(-1) ?? "")).toMatchObject({ alpha: 5, targetModules: ["fc1"] });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("--out refuses an existing folder without --force, replaces it whole with it, and writes what convert writes", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "lowrank-train-out-"));
    try {
      const out = path.join(dir, "adapter");
      await mkdir(out);
      await writeFile(path.join(out, "stale.txt"), "old");
      const argv = ["train", "tiny", "--recipes", recipes, "--epochs", "1", "--out", out];
      const refused = captureIO();
      expect(await runCli(argv, refused)).toBe(1);
      expect(refused.err()).toMatch(
        /^lowrank: --out: expected a path that does not exist yet, found .* \(use --force to replace it\)\n$/,
      );
      expect(refused.out()).toBe("");
      expect(await readdir(out)).toEqual(["stale.txt"]);
      const json = captureIO();
      expect(await runCli([...argv, "--json"], json)).toBe(1);
      expect(JSON.parse(json.out()).error.code).toBe("OutputExists");

      expect(await runCli([...argv, "--force"], captureIO())).toBe(0);
      expect((await readdir(out)).sort()).toEqual([
        "README.md",
        "adapter_config.json",
        "adapter_model.safetensors",
        "base",
      ]);
      expect((await readdir(dir)).sort()).toEqual(["adapter"]); // no temporary folder left beside it
      const reference = path.join(dir, "reference");
      await mkdir(reference); // a folder made the usual way: the process umask decides its mode
      expect((await stat(out)).mode & 0o777).toBe((await stat(reference)).mode & 0o777);
      await rm(reference, { recursive: true });
      const converted = path.join(dir, "converted");
      expect(await runCli(["convert", out, converted], captureIO())).toBe(0);
      for (const f of ["adapter_config.json", "adapter_model.safetensors", "README.md"])
        expect(Buffer.compare(await readFile(path.join(out, f)), await readFile(path.join(converted, f))), f).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("--out writes base_model_name_or_path and the base, so forward, merge and serve use the result at once", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "lowrank-train-base-"));
    try {
      const out = path.join(dir, "adapter");
      const io = captureIO();
      expect(await runCli(["train", "tiny", "--recipes", recipes, "--epochs", "1", "--out", out], io)).toBe(0);
      expect(io.out()).toContain(`base written to ${path.join(out, "base")}`);
      const { adapter } = await readPeftFolder(out);
      expect(adapter.config.base_model_name_or_path).toBe("base");
      const base = path.join(out, "base");
      const input = "0.5,-1,2,0,1,0.25,-0.5,3";
      const plain = captureIO();
      expect(await runCli(["forward", "--base", base, "--input", input, "--json"], plain), plain.err()).toBe(0);
      const tuned = captureIO();
      expect(await runCli(["forward", "--base", base, "--adapter", out, "--input", input, "--json"], tuned)).toBe(0);
      const [p, t] = [JSON.parse(plain.out()), JSON.parse(tuned.out())];
      expect(t.shape).toEqual([1, 3]);
      expect(t.logits[0]).not.toEqual(p.logits[0]); // the trained adapter changes the scores
      const merged = path.join(dir, "merged");
      const mio = captureIO();
      expect(await runCli(["merge", "--base", base, "--adapter", out, "--out", merged], mio), mio.err()).toBe(0);
      const m = captureIO();
      expect(await runCli(["forward", "--base", merged, "--input", input, "--json"], m)).toBe(0);
      const got = JSON.parse(m.out()).logits[0] as number[];
      for (const [i, v] of got.entries()) expect(v).toBeCloseTo(t.logits[0][i], 4);
      // serve takes the folder as it is: the base from base/, the adapter registered by its folder name.
      const sio = captureIO();
      const served = runCli(["serve", "--base", base, "--adapters", out, "--port", "0", "--backend", "wasm"], sio);
      try {
        let url: string | undefined;
        for (let i = 0; i < 500 && !url; i++) {
          url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(sio.out())?.[1];
          if (!url) await new Promise((r) => setTimeout(r, 10));
        }
        expect(url, sio.err()).toBeDefined();
        const res = await fetch(`${url}/v1/forward`, {
          method: "POST",
          body: JSON.stringify({ adapter: "adapter", input: input.split(",").map(Number) }),
        });
        const body = (await res.json()) as { output: number[] };
        expect(res.status, JSON.stringify(body)).toBe(200);
        for (const [i, v] of body.output.entries()) expect(v).toBeCloseTo(t.logits[0][i], 4);
      } finally {
        process.emit("SIGTERM");
        expect(await served).toBe(0);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
