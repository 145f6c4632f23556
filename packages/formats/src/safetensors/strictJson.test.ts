import { describe, expect, it } from "vitest";
import { isFormatError } from "../errors.js";
import { JsonFloat, parseHeaderJson } from "./strictJson.js";

function code(text: string): string {
  try {
    parseHeaderJson(text);
    return "ok";
  } catch (e) {
    return isFormatError(e) ? e.code : `not a FormatError: ${String(e)}`;
  }
}

describe("parseHeaderJson", () => {
  it("keeps integers exact (bigint above 2^53-1) and marks non-integer literals", () => {
    const v = parseHeaderJson(
      '{"a":[18446744073709551615, 9007199254740991, 9007199254740992, 1.5, -2, 1e2, -0, true, null, "s"]}',
    );
    expect(v.get("a")).toEqual([
      18446744073709551615n,
      9007199254740991,
      9007199254740992n,
      new JsonFloat(1.5),
      -2,
      new JsonFloat(100),
      new JsonFloat(-0),
      true,
      null,
      "s",
    ]);
  });

  it("decodes escapes, surrogate pairs, and refuses lone surrogates and bad escapes", () => {
    expect(parseHeaderJson('{"k":"a\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00"}').get("k")).toBe(
      'a"\\/\b\f\n\r\té😀',
    );
    expect(code('{"k":"\\ud83d"}')).toBe("InvalidHeaderDeserialization");
    expect(code('{"k":"\\ude00"}')).toBe("InvalidHeaderDeserialization");
    expect(code('{"k":"\\x41"}')).toBe("InvalidHeaderDeserialization");
    expect(code('{"k":"\\u12"}')).toBe("InvalidHeaderDeserialization");
    expect(code('{"k":"a\nb"}')).toBe("InvalidHeaderDeserialization");
    expect(code('{"k":"abc')).toBe("InvalidHeaderDeserialization");
  });

  it("is strict RFC 8259", () => {
    for (const bad of [
      '{"a":1,}',
      '{"a":[1,]}',
      "{'a':1}",
      '{"a":01}',
      '{"a":+1}',
      '{"a":.5}',
      '{"a":1.}',
      '{"a":NaN}',
      '{"a":1e999}',
      "{a:1}",
      '{"a" 1}',
      '{"a":tru}',
      "{",
      '{"a":1}}',
      '{"a":[1 2]}',
    ]) {
      expect(code(bad), bad).toBe("InvalidHeaderDeserialization");
    }
    expect(code("  {}  ")).toBe("ok");
    expect(code("1")).toBe("InvalidHeaderStart");
  });

  it("caps nesting at 128 levels instead of overflowing the stack", () => {
    expect(code(`{"a":${"[".repeat(100)}${"]".repeat(100)}}`)).toBe("ok");
    expect(code(`{"a":${"[".repeat(100_000)}`)).toBe("InvalidHeaderDeserialization");
  });

  it("reports duplicate keys by where they are", () => {
    expect(code('{"a":1,"a":2}')).toBe("DuplicateTensor");
    expect(code('{"__metadata__":{"x":"1","x":"1"}}')).toBe("InvalidMetadata");
    expect(code('{"t":{"dtype":1,"dtype":2}}')).toBe("InvalidHeaderDeserialization");
    expect(code('{"t":{"x":{"y":1,"y":1}}}')).toBe("InvalidHeaderDeserialization");
    expect(code('{"__proto__":1,"constructor":2}')).toBe("ok");
  });
});
