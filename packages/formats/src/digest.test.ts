import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { adapterDigest, adapterDigestManifest, sha256Hex } from "./digest.js";
import { serializeSafetensors } from "./safetensors/serializeSafetensors.js";

const nodeSha = (b: Uint8Array | string) => createHash("sha256").update(b).digest("hex");

describe("digests", () => {
  it("sha256Hex matches node:crypto (and the FIPS test vector)", () => {
    expect(sha256Hex(new TextEncoder().encode("abc"))).toBe(
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
        expect(sha256Hex(b)).toBe(nodeSha(b));
      }),
      { numRuns: 100 },
    );
  });

  it("adapterDigest hashes a sorted sha256sum-style listing", () => {
    const files = { "b.json": new TextEncoder().encode("{}"), "a.safetensors": new Uint8Array([1, 2]) };
    const listing = `${nodeSha(files["a.safetensors"])}  a.safetensors\n${nodeSha(files["b.json"])}  b.json\n`;
    expect(adapterDigestManifest(files)).toBe(listing);
    expect(adapterDigest(files)).toBe(nodeSha(listing));
  });

  it("is stable when the same adapter is written again, and changes with any byte or name", () => {
    const weights = () => ({
      "base_model.model.h.0.attn.c_attn.lora_B.weight": {
        dtype: "F32" as const,
        shape: [4, 2],
        data: new Float32Array(8).fill(0.25),
      },
      "base_model.model.h.0.attn.c_attn.lora_A.weight": {
        dtype: "F32" as const,
        shape: [2, 4],
        data: new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]),
      },
    });
    const write = (reverse: boolean) => {
      const w = weights();
      const tensors = reverse ? Object.fromEntries(Object.entries(w).reverse()) : w;
      const files: Record<string, Uint8Array> = {};
      const names = ["adapter_model.safetensors", "adapter_config.json"];
      for (const n of reverse ? names.reverse() : names) {
        files[n] = n.endsWith(".json")
          ? new TextEncoder().encode('{"r":2}')
          : serializeSafetensors(tensors, { format: "pt" });
      }
      return files;
    };
    const first = adapterDigest(write(false));
    expect(adapterDigest(write(true))).toBe(first);
    expect(first).toMatch(/^[0-9a-f]{64}$/);

    const changed = write(false);
    const model = changed["adapter_model.safetensors"] as Uint8Array;
    model[model.length - 1] = (model[model.length - 1] as number) ^ 1;
    expect(adapterDigest(changed)).not.toBe(first);
    const renamed = write(false);
    renamed["adapter_config2.json"] = renamed["adapter_config.json"] as Uint8Array;
    delete renamed["adapter_config.json"];
    expect(adapterDigest(renamed)).not.toBe(first);
  });

  it("refuses names that would make the listing ambiguous", () => {
    expect(() => adapterDigest({ "a\nb": new Uint8Array() })).toThrow(
      expect.objectContaining({ code: "InvalidConfig" }),
    );
    expect(() => adapterDigest({ "": new Uint8Array() })).toThrow(expect.objectContaining({ code: "InvalidConfig" }));
  });
});
