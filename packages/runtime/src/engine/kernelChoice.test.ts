import { LORA_BGMV } from "@lowrank/core";
import * as tf from "@tensorflow/tfjs-core";
import { describe, expect, it } from "vitest";
import { useBackend } from "../../test/useBackend.js";
import { Engine, type EngineOptions } from "./Engine.js";
import { createSyntheticMlp, seededValues, syntheticAdapter, syntheticAdapterArrays } from "./synthetic.js";
import { mlpArrays, referenceMlp } from "./testing.js";

// The engine's heterogeneous batches run @lowrank/core's bgmvAdapters, by an explicit path: the registered
// LoraBgmv kernel on cpu, the segmented composition (gather, matmuls, scatter) on wasm by default, and the
// stacked path when asked. Each choice gives the reference outputs.

const DIMS = [10, 12, 6];

async function mixedBatch(kernel: EngineOptions["kernel"]): Promise<{ names: string[]; outputs: Float32Array[] }> {
  const base = createSyntheticMlp({ dims: DIMS, seed: 1 });
  const engine = new Engine({ flush: "manual", kernel });
  engine.addBase("b", base);
  engine.registerAdapter("x", { kind: "custom", load: (b) => syntheticAdapter(b, { rank: 2, seed: 1 }) });
  engine.registerAdapter("y", { kind: "custom", load: (b) => syntheticAdapter(b, { rank: 5, seed: 2 }) });
  await engine.loadAdapter("x");
  await engine.loadAdapter("y");
  const pending = ["x", "y", "__base__", "y"].map((adapter, i) =>
    engine.forward({ adapter, scale: 0.5 + i, input: seededValues(i, DIMS[0] as number) }),
  );
  const info = await tf.profile(() => engine.flush());
  const outputs = (await Promise.all(pending)).map((r) => {
    expect(r.batchSize).toBe(4);
    return r.data;
  });
  const ref = mlpArrays(base);
  outputs.forEach((out, i) => {
    const adapter = ["x", "y", "__base__", "y"][i];
    const spec = adapter === "x" ? { rank: 2, seed: 1 } : adapter === "y" ? { rank: 5, seed: 2 } : undefined;
    const want = referenceMlp(
      ref,
      seededValues(i, DIMS[0] as number),
      spec && syntheticAdapterArrays(base, spec),
      0.5 + i,
    );
    out.forEach((v, o) => {
      expect(v).toBeCloseTo(want[o] as number, 4);
    });
  });
  await engine.close();
  return { names: info.kernelNames, outputs };
}

for (const backend of ["cpu", "wasm"] as const) {
  describe(`engine kernel paths on ${backend}`, () => {
    useBackend(backend);

    it("auto runs the backend's registered LoraBgmv kernel where there is one, else the segmented composition", async () => {
      const { names } = await mixedBatch("auto");
      if (backend === "cpu") expect(names).toContain(LORA_BGMV);
      else {
        expect(names).not.toContain(LORA_BGMV);
        expect(names).toEqual(expect.arrayContaining(["GatherNd", "ScatterNd"]));
      }
    });

    it("segmented and kernel paths are chosen by the option and agree", async () => {
      const segmented = await mixedBatch("segmented");
      const stacked = await mixedBatch("kernel");
      expect(segmented.names).toContain("ScatterNd");
      expect(segmented.names).not.toContain(LORA_BGMV);
      expect(stacked.names).not.toContain("ScatterNd");
      if (backend === "cpu") expect(stacked.names).toContain(LORA_BGMV);
      segmented.outputs.forEach((o, i) => {
        o.forEach((v, j) => {
          expect(v).toBeCloseTo((stacked.outputs[i] as Float32Array)[j] as number, 4);
        });
      });
    });
  });
}
