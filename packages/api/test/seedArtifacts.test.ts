// The committed demo artifacts (examples/artifacts/<task>/hub.json) seed real bases and adapters: Dense
// bases are registered from their safetensors header, and the hub's inference answers what
// @lowrank/runtime computes in this process from the same files.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bases, eq, findRepoRoot } from "@lowrank/db";
import { manifestFromHeader, serializeSafetensors } from "@lowrank/formats";
import {
  adapterLinear,
  type BaseModel,
  baseModelFromBytes,
  DenseClassifier,
  initBackend,
  peftAdapterFromBytes,
} from "@lowrank/runtime";
import * as tf from "@tensorflow/tfjs-core";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registerBase } from "../src/hub/bases.js";
import { seedDemo } from "../src/hub/seed.js";
import { once, seedArtifacts } from "../src/hub/seedArtifacts.js";
import { hubClient, startTestHub, type TestHub } from "../src/testing.js";

const artifacts = join(findRepoRoot(), "examples", "artifacts");
const read = (...p: string[]) => new Uint8Array(readFileSync(join(artifacts, ...p)));
const hubJson = (task: string) =>
  JSON.parse(readFileSync(join(artifacts, task, "hub.json"), "utf8")) as {
    base: { name: string; input?: { kind: string } };
    adapters: { name: string }[];
  };
const tasks = readdirSync(artifacts).filter((t) => {
  try {
    return Boolean(hubJson(t));
  } catch {
    return false;
  }
});

/** What @lowrank/runtime computes in this process for the task's files and one input row. */
function local(task: string, adapter: string | null, input: Float32Array): number[] {
  const model = baseModelFromBytes(read(task, "base", "config.json"), read(task, "base", "model.safetensors"));
  try {
    const a = adapter
      ? peftAdapterFromBytes(
          adapter,
          read(task, "adapters", adapter, "adapter_config.json"),
          read(task, "adapters", adapter, "adapter_model.safetensors"),
        )
      : undefined;
    const linear = adapterLinear(model, a, 1);
    const out = tf.tidy(() => (model as DenseClassifier).forward(tf.tensor2d(input, [1, input.length]), linear));
    const data = Array.from(out.dataSync());
    out.dispose();
    for (const m of a?.modules.values() ?? []) tf.dispose([m.a, m.b]);
    return data;
  } finally {
    (model as BaseModel).dispose();
  }
}

/** A seeded input row of `n` floats in [0, 1) (the same for both sides). */
const row = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => (Math.sin(seed * 31 + i) + 1) / 2);

describe("seeding the committed demo artifacts", () => {
  let t: TestHub;
  beforeAll(async () => {
    await initBackend({ backend: "cpu" });
    t = await startTestHub();
  });
  afterAll(async () => {
    await t?.hub.inference?.close();
    await t?.close();
  });

  it("registers every hub.json base and publishes its adapters, once", async () => {
    expect(tasks).toEqual(expect.arrayContaining(["mnist", "sentiment"]));
    const first = await seedDemo(t.hub);
    expect(first.skipped).toEqual([]);
    for (const task of tasks) {
      const spec = hubJson(task);
      expect(first.bases).toContain(spec.base.name);
      for (const a of spec.adapters) expect(first.adapters).toContain(`lowrank/${a.name}`);
    }
    const second = await seedDemo(t.hub);
    expect(second.adapters).toEqual([]);
    expect(second.skipped).toEqual([]);
  });

  it.each(["mnist", "sentiment"])("%s: the base's manifest is the runtime's, read from the header", async (task) => {
    const spec = hubJson(task);
    const [row0] = await t.hub.database.db.select().from(bases).where(eq(bases.name, spec.base.name));
    expect(row0).toMatchObject({ architecture: "DenseClassifier", modelType: "dense" });
    expect((row0?.config as { input?: { kind: string } } | undefined)?.input?.kind).toBe(spec.base.input?.kind);
    const model = baseModelFromBytes(read(task, "base", "config.json"), read(task, "base", "model.safetensors"));
    try {
      expect(model).toBeInstanceOf(DenseClassifier);
      expect(row0?.manifestDigest).toBe(model.id);
    } finally {
      model.dispose();
    }
  });

  it.each([
    ["mnist", 784],
    ["sentiment", 2048],
  ] as const)("%s: the hub's inference equals the runtime here, base and each adapter", async (task, width) => {
    const client = hubClient(t.url);
    const spec = hubJson(task);
    const input = row(width, task.length);
    const base = await client.inference.run.mutate({ base: spec.base.name, input: Array.from(input) });
    const expected = local(task, null, input);
    expect(base.output).toHaveLength(expected.length);
    for (const [i, v] of base.output.entries()) expect(v).toBeCloseTo(expected[i] as number, 4);
    for (const a of spec.adapters) {
      const adapted = await client.inference.run.mutate({
        base: spec.base.name,
        adapters: [{ ref: `lowrank/${a.name}` }],
        input: Array.from(input),
      });
      const want = local(task, a.name, input);
      for (const [i, v] of adapted.output.entries()) expect(v).toBeCloseTo(want[i] as number, 4);
      expect(adapted.output.some((v, i) => Math.abs(v - (base.output[i] as number)) > 1e-3)).toBe(true);
    }
  });

  it("reports a folder whose hub.json is broken or whose base has no manifest, and seeds nothing from it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lowrank-artifacts-"));
    try {
      mkdirSync(join(dir, "bad-json", "base"), { recursive: true });
      writeFileSync(join(dir, "bad-json", "hub.json"), '{"base": {"name": "Not A Name!"}}');
      mkdirSync(join(dir, "no-manifest", "base"), { recursive: true });
      writeFileSync(join(dir, "no-manifest", "hub.json"), '{"base": {"name": "no-manifest-base"}, "adapters": []}');
      writeFileSync(join(dir, "no-manifest", "base", "config.json"), '{"model_type": "t5"}');
      // An input block the hub's schema refuses: more pixels than the inference API takes.
      mkdirSync(join(dir, "too-big-image", "base"), { recursive: true });
      writeFileSync(
        join(dir, "too-big-image", "hub.json"),
        '{"base": {"name": "big-image", "input": {"kind": "image", "width": 100, "height": 100}}}',
      );
      const report = { bases: [], adapters: [], skipped: [] as string[] };
      await seedArtifacts(t.hub, dir, report, async () => {
        throw new Error("nothing to publish");
      });
      expect(report.bases).toEqual([]);
      expect(report.skipped).toHaveLength(3);
      expect(report.skipped[0]).toMatch(/^examples\/artifacts\/bad-json: .*base model name/s);
      expect(report.skipped[1]).toMatch(/^examples\/artifacts\/no-manifest: .*model\.safetensors/);
      expect(report.skipped[2]).toMatch(/^examples\/artifacts\/too-big-image: hub\.json: .*at most 4096 values/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("property: any Dense chain uploaded as model.safetensors registers with the header's manifest", async () => {
    const { db } = t.hub.database;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 2, maxLength: 5 }), async (widths) => {
        const tensors: Record<string, { dtype: "F32"; shape: number[]; data: Float32Array }> = {};
        for (let i = 0; i + 1 < widths.length; i++) {
          const shape = [widths[i] as number, widths[i + 1] as number];
          tensors[`l${i}.kernel`] = { dtype: "F32", shape, data: new Float32Array(shape[0]! * shape[1]!) };
        }
        const bytes = serializeSafetensors(tensors, { format: "pt" });
        const stored = await t.hub.blobs.put(once(bytes));
        const name = `dense-${widths.join("x")}`;
        const config = { layers: Object.keys(tensors).map((k) => k.slice(0, -".kernel".length)) };
        const base = await registerBase(t.hub, {
          name,
          config,
          weights: [{ path: "model.safetensors", ...stored }],
        });
        const header = manifestFromHeader(
          config,
          new Map(Object.entries(tensors).map(([k, v]) => [k, { shape: v.shape }])),
        );
        expect(base.manifestDigest).toBe(header.digest);
        const model = baseModelFromBytes(config, bytes);
        try {
          expect(model.id).toBe(base.manifestDigest);
        } finally {
          model.dispose();
        }
        const [again] = await db.select().from(bases).where(eq(bases.name, name));
        expect(again?.architecture).toBe("DenseClassifier");
      }),
      { numRuns: 15 },
    );
  });
});
