import { mkdtemp, rm } from "node:fs/promises";
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
    const out = await mkdtemp(path.join(os.tmpdir(), "lowrank-train-"));
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
      await rm(out, { recursive: true, force: true });
    }
  });

  it("plain output summarizes; unknown recipe exits 1 with a reason", async () => {
    const io = captureIO();
    expect(await runCli(["train", "tiny", "--recipes", recipes], io)).toBe(0);
    expect(io.out()).toMatch(/tiny: r=2, 2 epoch\(s\), 8 steps, loss [\d.]+ -> [\d.]+/);
    expect(io.out()).toMatch(/accuracy/);
    const bad = captureIO();
    expect(await runCli(["train", "nope", "--recipes", recipes], bad)).toBe(1);
    expect(bad.err()).toContain("nope.ts");
  });
});
