// Conformance against the 21 vectors in fixtures/safetensors-vectors, built from the test cases of
// the reference implementation (huggingface/safetensors, safetensors/src/tensor.rs; see manifest.json).
import { readFileSync } from "node:fs";
import { fixturePath } from "@lowrank/vitest-config/fixtures";
import { describe, expect, it } from "vitest";
import type { FormatErrorCode } from "../errors.js";
import { openSafetensorsBlob } from "./LazySafetensors.js";
import { parseSafetensors, safeParseSafetensors } from "./parseSafetensors.js";
import { serializeSafetensors, type TensorInputs } from "./serializeSafetensors.js";
import { toFloat32 } from "./toFloat32.js";

interface Vector {
  file: string;
  bytes: number;
  expect: string;
  upstream_test: string;
}

const dir = fixturePath("safetensors-vectors");
const manifest = JSON.parse(readFileSync(`${dir}/manifest.json`, "utf8")) as { vectors: Vector[] };
const read = (file: string) => new Uint8Array(readFileSync(`${dir}/${file}`));

/** The reference's error names, as this package's codes. */
const REFERENCE_TO_CODE: Record<string, FormatErrorCode> = {
  HeaderTooSmall: "HeaderTooSmall",
  HeaderTooLarge: "HeaderTooLarge",
  InvalidHeaderLength: "InvalidHeaderLength",
  InvalidHeader: "HeaderNotUtf8",
  InvalidHeaderDeserialization: "InvalidHeaderDeserialization",
  InvalidOffset: "InvalidOffset",
  MetadataIncompleteBuffer: "MetadataIncompleteBuffer",
  TensorInvalidInfo: "TensorInvalidInfo",
  ValidationOverflow: "ValidationOverflow",
};

const f32 = (...v: number[]) => new Uint8Array(new Float32Array(v).buffer);

/** What each accepted file holds: name -> [dtype, shape, bytes]. */
const ACCEPT: Record<string, Record<string, [string, number[], Uint8Array]>> = {
  "accept_deserialization.safetensors": { test: ["I32", [2, 2], new Uint8Array(16)] },
  "accept_empty_shape_scalar.safetensors": { test: ["I32", [], new Uint8Array(4)] },
  "accept_whitespace_trailing_padded_header.safetensors": {},
  "accept_whitespace_leading_padded_header.safetensors": {},
  "accept_zero_sized_tensor.safetensors": { test: ["I32", [2, 0], new Uint8Array(0)] },
};

/** Writer inputs that must reproduce each golden file byte for byte. */
const GOLDEN: Record<string, { tensors: TensorInputs; metadata?: Record<string, string> }> = {
  "golden_serialize_attn0_f32_1x2x3.safetensors": {
    tensors: { "attn.0": { dtype: "F32", shape: [1, 2, 3], data: f32(0, 1, 2, 3, 4, 5) } },
  },
  "golden_serialize_forced_alignment.safetensors": {
    tensors: { attn0: { dtype: "F32", shape: [1, 1, 2, 3], data: f32(0, 1, 2, 3, 4, 5) } },
  },
  "golden_serialize_empty.safetensors": { tensors: {} },
  "golden_serialize_empty_with_metadata.safetensors": { tensors: {}, metadata: { framework: "pt" } },
  "golden_serialize_f4.safetensors": { tensors: { "attn.0": { dtype: "F4", shape: [1, 2], data: new Uint8Array(1) } } },
};

describe("safetensors conformance vectors", () => {
  it("covers all 21 vectors of the manifest, with the sizes it lists", () => {
    expect(manifest.vectors).toHaveLength(21);
    for (const v of manifest.vectors) {
      expect(read(v.file).length, v.file).toBe(v.bytes);
      const known = v.file in ACCEPT || v.file in GOLDEN || v.file.startsWith("reject_");
      expect(known, v.file).toBe(true);
    }
  });

  for (const v of manifest.vectors.filter((x) => x.file.startsWith("reject_"))) {
    const reference = v.expect.split(" ")[0] as string;
    it(`${v.file} -> ${reference}`, async () => {
      const code = REFERENCE_TO_CODE[reference];
      expect(code, `no mapping for ${reference}`).toBeDefined();
      const result = safeParseSafetensors(read(v.file));
      expect(result.ok).toBe(false);
      if (!result.ok) {
        expect(result.error.code).toBe(code);
        expect(result.error.message.length).toBeGreaterThan(20);
      }
      // The lazy reader applies the same rules to the same bytes.
      await expect(openSafetensorsBlob(new Blob([read(v.file)]))).rejects.toMatchObject({ code });
    });
  }

  for (const [file, tensors] of Object.entries(ACCEPT)) {
    it(`${file} is accepted with the right content`, async () => {
      const parsed = parseSafetensors(read(file));
      expect(parsed.names().sort()).toEqual(Object.keys(tensors).sort());
      const lazy = await openSafetensorsBlob(new Blob([read(file)]));
      for (const [name, [dtype, shape, data]] of Object.entries(tensors)) {
        const t = parsed.getTensor(name);
        expect(t.dtype).toBe(dtype);
        expect(t.shape).toEqual(shape);
        expect(t.data).toEqual(data);
        expect((await lazy.readTensor(name)).data).toEqual(data);
      }
      await lazy.close();
    });
  }

  for (const [file, { tensors, metadata }] of Object.entries(GOLDEN)) {
    it(`${file}: the writer reproduces it byte for byte, and it reads back`, () => {
      const golden = read(file);
      expect(serializeSafetensors(tensors, metadata)).toEqual(golden);
      const parsed = parseSafetensors(golden);
      expect(parsed.metadata).toEqual(metadata ?? null);
      for (const [name, t] of Object.entries(tensors)) {
        const got = parsed.getTensor(name);
        expect([got.dtype, got.shape, got.data]).toEqual([t.dtype, t.shape, t.data]);
      }
    });
  }

  it("golden F32 tensors decode to 0..5 and sit 4-byte aligned in the file", () => {
    for (const file of [
      "golden_serialize_attn0_f32_1x2x3.safetensors",
      "golden_serialize_forced_alignment.safetensors",
    ]) {
      const parsed = parseSafetensors(read(file));
      const t = parsed.getTensor(parsed.names()[0] as string);
      expect(t.data.byteOffset % 4).toBe(0);
      expect(Array.from(toFloat32(t))).toEqual([0, 1, 2, 3, 4, 5]);
    }
  });
});
