import { describe, expect, it } from "vitest";
import type { FormatErrorCode } from "../errors.js";
import { parseSafetensors, safeParseSafetensors } from "./parseSafetensors.js";
import { rawSafetensors } from "./testing.js";

function codeOf(bytes: Uint8Array): FormatErrorCode | "ok" {
  const r = safeParseSafetensors(bytes);
  return r.ok ? "ok" : r.error.code;
}

const info = (dtype: string, shape: number[] | string, start: number | string, end: number | string) =>
  `{"dtype":"${dtype}","shape":${typeof shape === "string" ? shape : JSON.stringify(shape)},"data_offsets":[${start},${end}]}`;

describe("parseSafetensors: the reference's rules", () => {
  it("reads the length as a little-endian u64 and checks it", () => {
    expect(codeOf(new Uint8Array(7))).toBe("HeaderTooSmall");
    const huge = new Uint8Array(16);
    huge[7] = 1; // 2^56
    expect(codeOf(huge)).toBe("HeaderTooLarge");
    const big = new Uint8Array(16);
    new DataView(big.buffer).setUint32(0, 100_000_001, true);
    expect(codeOf(big)).toBe("HeaderTooLarge");
    new DataView(big.buffer).setUint32(0, 9, true); // one byte more than the file has
    expect(codeOf(big)).toBe("InvalidHeaderLength");
  });

  it("accepts tensors listed in any key order and sorts them by offset", () => {
    const f = parseSafetensors(
      rawSafetensors(`{"b":${info("U8", [2], 1, 3)},"a":${info("U8", [1], 0, 1)}}`, new Uint8Array([9, 8, 7])),
    );
    expect(f.names()).toEqual(["a", "b"]);
    expect(Array.from(f.getTensor("b").data)).toEqual([8, 7]);
    expect(f.dataOffset).toBe(8 + f.headerByteLength);
  });

  it("refuses gaps, overlaps, reversed offsets and trailing data", () => {
    expect(codeOf(rawSafetensors(`{"a":${info("U8", [1], 1, 2)}}`, 2))).toBe("InvalidOffset"); // gap at 0
    expect(codeOf(rawSafetensors(`{"a":${info("U8", [2], 0, 2)},"b":${info("U8", [1], 1, 2)}}`, 2))).toBe(
      "InvalidOffset",
    );
    expect(codeOf(rawSafetensors(`{"a":${info("U8", [0], 2, 0)}}`, 2))).toBe("InvalidOffset");
    expect(codeOf(rawSafetensors(`{"a":${info("U8", [2], 0, 2)}}`, 3))).toBe("MetadataIncompleteBuffer");
    expect(codeOf(rawSafetensors(`{"a":${info("U8", [2], 0, 2)}}`, 1))).toBe("MetadataIncompleteBuffer");
    expect(codeOf(rawSafetensors(`{}`, 1))).toBe("MetadataIncompleteBuffer");
  });

  it("checks byte length = elements x dtype size, with overflow and sub-byte checks", () => {
    expect(codeOf(rawSafetensors(`{"a":${info("F32", [2], 0, 4)}}`, 4))).toBe("TensorInvalidInfo");
    expect(codeOf(rawSafetensors(`{"a":${info("F4", [3], 0, 2)}}`, 2))).toBe("MisalignedSlice");
    expect(codeOf(rawSafetensors(`{"a":${info("F6_E2M3", [4], 0, 3)}}`, 3))).toBe("ok");
    expect(codeOf(rawSafetensors(`{"a":${info("U8", "[4294967296,4294967296]", 0, 1)}}`, 1))).toBe(
      "ValidationOverflow",
    );
    // A header that claims a huge tensor is refused from the header alone (nothing allocated).
    expect(codeOf(rawSafetensors(`{"a":${info("F32", [1e6, 1e6], 0, "4000000000000")}}`, 0))).toBe(
      "MetadataIncompleteBuffer",
    );
  });

  it("checks the schema of each entry", () => {
    expect(codeOf(rawSafetensors(`{"a":{"dtype":"F32","shape":[1]}}`))).toBe("InvalidHeaderDeserialization");
    expect(codeOf(rawSafetensors(`{"a":${info("F33", [1], 0, 4)}}`, 4))).toBe("UnknownDtype");
    // found by the fuzzer: a non-string dtype once escaped as a TypeError (JSON.stringify of a bigint)
    expect(codeOf(rawSafetensors(`{"a":{"dtype":1,"shape":[],"data_offsets":[0]}}`))).toBe("UnknownDtype");
    expect(codeOf(rawSafetensors(`{"a":${info("F32", "[1.0]", 0, 4)}}`, 4))).toBe("InvalidHeaderDeserialization");
    expect(codeOf(rawSafetensors(`{"a":${info("F32", "[-1]", 0, 4)}}`, 4))).toBe("InvalidHeaderDeserialization");
    expect(codeOf(rawSafetensors(`{"a":${info("F32", "[18446744073709551616]", 0, 4)}}`, 4))).toBe(
      "InvalidHeaderDeserialization",
    );
    expect(codeOf(rawSafetensors(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1,2]}}`, 1))).toBe(
      "InvalidHeaderDeserialization",
    );
    expect(codeOf(rawSafetensors(`{"a":[1]}`))).toBe("InvalidHeaderDeserialization");
    // Unknown fields are ignored, as serde does in the reference.
    expect(codeOf(rawSafetensors(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"x":[{}]}}`, 1))).toBe("ok");
  });

  it("requires a JSON object header (leading/trailing whitespace allowed, BOM not)", () => {
    expect(codeOf(rawSafetensors("[]"))).toBe("InvalidHeaderStart");
    expect(codeOf(rawSafetensors("\uFEFF{}"))).toBe("InvalidHeaderStart");
    expect(codeOf(rawSafetensors(" \t\r\n{} \n"))).toBe("ok");
    expect(codeOf(rawSafetensors("{} x"))).toBe("InvalidHeaderDeserialization");
    expect(codeOf(rawSafetensors(""))).toBe("InvalidHeaderDeserialization");
    const bad = rawSafetensors("{}");
    bad[9] = 0xc3; // truncated 2-byte sequence
    expect(codeOf(bad)).toBe("HeaderNotUtf8");
  });

  it("metadata must be string -> string; null means none", () => {
    expect(parseSafetensors(rawSafetensors(`{"__metadata__":{"format":"pt","__proto__":"x"}}`)).metadata).toEqual(
      Object.defineProperty({ format: "pt" }, "__proto__", { value: "x", enumerable: true }),
    );
    expect(parseSafetensors(rawSafetensors(`{"__metadata__":null}`)).metadata).toBeNull();
    expect(codeOf(rawSafetensors(`{"__metadata__":{"n":1}}`))).toBe("InvalidMetadata");
    expect(codeOf(rawSafetensors(`{"__metadata__":["a"]}`))).toBe("InvalidMetadata");
    expect(codeOf(rawSafetensors(`{"__metadata__":{"a":"1","a":"2"}}`))).toBe("InvalidMetadata");
  });

  it("refuses duplicate tensor names, which JSON.parse would silently merge", () => {
    expect(codeOf(rawSafetensors(`{"a":${info("U8", [1], 0, 1)},"a":${info("U8", [1], 1, 2)}}`, 2))).toBe(
      "DuplicateTensor",
    );
    expect(codeOf(rawSafetensors(`{"a":${info("U8", [1], 0, 1)},"\\u0061":${info("U8", [1], 0, 1)}}`, 1))).toBe(
      "DuplicateTensor",
    );
    expect(codeOf(rawSafetensors(`{"a":{"dtype":"U8","dtype":"U8","shape":[1],"data_offsets":[0,1]}}`, 1))).toBe(
      "InvalidHeaderDeserialization",
    );
  });

  it("getTensor views the file without copying; unknown names are TensorNotFound", () => {
    const bytes = rawSafetensors(`{"w":${info("I16", [2], 0, 4)}}    `, new Uint8Array([1, 0, 0xff, 0xff]));
    const f = parseSafetensors(bytes);
    const t = f.getTensor("w");
    expect(t.data.buffer).toBe(bytes.buffer);
    expect(t.shape).toEqual([2]);
    expect(() => f.getTensor("nope")).toThrow(expect.objectContaining({ code: "TensorNotFound" }));
  });

  it("accepts a zero-element tensor with a huge dimension only within 2^53", () => {
    expect(codeOf(rawSafetensors(`{"a":${info("F32", "[9007199254740991,0]", 0, 0)}}`))).toBe("ok");
    expect(codeOf(rawSafetensors(`{"a":${info("F32", "[9007199254740993,0]", 0, 0)}}`))).toBe("ValidationOverflow");
  });

  it("error messages say what was expected and what was found", () => {
    const r = safeParseSafetensors(rawSafetensors(`{"a":${info("F32", [2], 0, 4)}}`, 4));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.message).toMatch(/expected 8 bytes.*found.*4/);
  });
});
