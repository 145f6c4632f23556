import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type AdapterWeights, baseModelFromBytes, type DenseClassifier, peftAdapterFromBytes } from "@lowrank/runtime";
import "@tensorflow/tfjs-backend-cpu";
import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { PlaygroundResources } from "./playgroundResources.js";

const mnist = (path: string) =>
  new Uint8Array(readFileSync(fileURLToPath(new URL(`../../../../examples/artifacts/mnist/${path}`, import.meta.url))));
const base = () => baseModelFromBytes(mnist("base/config.json"), mnist("base/model.safetensors")) as DenseClassifier;
const load = async (repo: string): Promise<AdapterWeights> => {
  const name = repo.split("/")[1] as string;
  return peftAdapterFromBytes(
    repo,
    mnist(`adapters/${name}/adapter_config.json`),
    mnist(`adapters/${name}/adapter_model.safetensors`),
  );
};

beforeAll(async () => {
  await tf.setBackend("cpu");
});

describe("a playground's resources", () => {
  it("release() disposes the base and every cached adapter, after the work in flight settles", async () => {
    const r = new PlaygroundResources<ReturnType<typeof base>>(load);
    const model = base();
    expect(r.hold(model)).toBe(true);
    const [a, b] = await Promise.all([r.adapter("lowrank/mnist-inverted"), r.adapter("lowrank/mnist-rotated-45")]);
    expect(await r.adapter("lowrank/mnist-inverted")).toBe(a);
    // The tensors the playground owns: the base's weights and biases, each adapter's A and B.
    const owned = [
      ...[...model.linearModules.values()].flatMap((m) => (m.bias ? [m.weight, m.bias] : [m.weight])),
      ...[...a.modules.values(), ...b.modules.values()].flatMap((m) => [m.a, m.b]),
    ];
    const before = tf.memory().numTensors;
    // An evaluation still running when the page goes: it must finish on live tensors.
    let finish = () => {};
    const gate = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const evaluation = r.run(async () => {
      await gate;
      return tf.tidy(() => tf.sum(model.forward(tf.zeros([1, model.inFeatures]), model.linear)).arraySync());
    });
    const released = r.release();
    finish();
    expect(typeof (await evaluation)).toBe("number");
    expect(owned.some((t) => t.isDisposed)).toBe(false);
    await released;
    expect(owned.every((t) => t.isDisposed)).toBe(true);
    expect(tf.memory().numTensors).toBe(before - owned.length);
    await expect(r.adapter("lowrank/mnist-inverted")).rejects.toThrow(/closed/);
  });

  it("a base that finishes loading after the playground is gone is disposed at once", async () => {
    const r = new PlaygroundResources<ReturnType<typeof base>>(load);
    const pending = r.adapter("lowrank/mnist-inverted");
    await r.release();
    const adapter = await pending;
    expect([...adapter.modules.values()].every((m) => m.a.isDisposed && m.b.isDisposed)).toBe(true);
    const late = base();
    expect(r.hold(late)).toBe(false);
    expect([...late.linearModules.values()].every((m) => m.weight.isDisposed)).toBe(true);
  });

  it("a failed fetch is forgotten, so the next click fetches again", async () => {
    let calls = 0;
    const r = new PlaygroundResources<ReturnType<typeof base>>(async (repo) => {
      calls++;
      if (calls === 1) throw new Error("offline");
      return load(repo);
    });
    await expect(r.adapter("lowrank/mnist-inverted")).rejects.toThrow("offline");
    expect(r.has("lowrank/mnist-inverted")).toBe(false);
    await r.adapter("lowrank/mnist-inverted");
    expect(calls).toBe(2);
    await r.release();
  });
});
