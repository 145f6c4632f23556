// A loaded model's output heads (what @lowrank/core's "all-linear" leaves out) are the ones
// @lowrank/formats' adapter check finds in the manifest of the same checkpoint.
import { fileURLToPath } from "node:url";
import { outputHeadModules } from "@lowrank/formats";
import { readBaseManifest } from "@lowrank/formats/node";
import { describe, expect, it } from "vitest";
import { loadBaseModel } from "./loadHfModel.js";

const translation = fileURLToPath(new URL("../../../../examples/artifacts/translation/base", import.meta.url));

describe("output heads", () => {
  it("the translation base (CharSeq2Seq): lm_head, in the model's host and in the header's manifest", async () => {
    const model = await loadBaseModel(translation);
    try {
      const heads = model.asLinearHost().outputModuleNames?.();
      expect(heads).toEqual(["lm_head"]);
      expect(outputHeadModules(await readBaseManifest(translation))).toEqual(heads);
    } finally {
      model.dispose();
    }
  });
});
