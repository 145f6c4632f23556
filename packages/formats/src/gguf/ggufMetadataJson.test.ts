import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { gguf } from "@huggingface/gguf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseGguf } from "./GgufFile.js";
import { ggufMetadataToJson } from "./ggufMetadataJson.js";
import { serializeGguf } from "./serializeGguf.js";
import type { GgufValue } from "./types.js";

let tmp = "";
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), "lowrank-gguf-json-"));
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

const METADATA: Record<string, GgufValue> = {
  "general.architecture": { type: "string", value: "llama" },
  "test.u64_small": { type: "u64", value: 5n },
  "test.u64_2_53_plus_1": { type: "u64", value: 2n ** 53n + 1n },
  "test.u64_max": { type: "u64", value: 2n ** 64n - 1n },
  "test.i64_min": { type: "i64", value: -(2n ** 63n) },
  "test.u32": { type: "u32", value: 7 },
  "test.u64_array": { type: "array", itemType: "u64", value: [0n, 1n, 2n ** 63n] },
};

describe("ggufMetadataToJson: 64-bit integers", () => {
  it("are always decimal strings (one form, exact at any size); other numbers stay numbers", () => {
    const json = ggufMetadataToJson(parseGguf(serializeGguf({ metadata: METADATA, tensors: [] })).metadata);
    expect(json).toEqual({
      "general.architecture": "llama",
      "test.u64_small": "5",
      "test.u64_2_53_plus_1": "9007199254740993",
      "test.u64_max": "18446744073709551615",
      "test.i64_min": "-9223372036854775808",
      "test.u32": 7,
      "test.u64_array": ["0", "1", "9223372036854775808"],
    });
  });

  it("agree with @huggingface/gguf's reading of the same file (BigInt(string) === its bigint)", async () => {
    const file = path.join(tmp, "u64.gguf");
    await writeFile(file, serializeGguf({ metadata: METADATA, tensors: [] }));
    const theirs = await gguf(file, { allowLocalFile: true, typedMetadata: true });
    const ours = ggufMetadataToJson(parseGguf(serializeGguf({ metadata: METADATA, tensors: [] })).metadata);
    for (const key of ["test.u64_small", "test.u64_2_53_plus_1", "test.u64_max", "test.i64_min"]) {
      const v = (theirs.typedMetadata as unknown as Record<string, { value: unknown }>)[key]?.value;
      expect(typeof v, key).toBe("bigint");
      expect(BigInt(ours[key] as string), key).toBe(v);
    }
    const arr = (theirs.typedMetadata as unknown as Record<string, { value: unknown[] }>)["test.u64_array"]?.value;
    expect((ours["test.u64_array"] as string[]).map(BigInt)).toEqual(arr);
  });
});
