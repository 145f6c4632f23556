import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { floatPathsOf, pythonJsonDumps, pythonNumber } from "./pythonJson.js";

// Expected strings were printed by CPython 3 (`json.dumps(v, indent=2, sort_keys=True)` and `repr(float)`).
describe("pythonJsonDumps", () => {
  it("lays out JSON as json.dumps(indent=2, sort_keys=True) does", () => {
    const value = {
      lora_dropout: 0,
      alpha: 1,
      tiny: 1e-5,
      big: 1e16,
      mid: 123.25,
      neg: -2.5e-7,
      int: 7,
      name: 'Tigrinya ትግርኛ "q"\n\x7f',
      list: [0.5, [], {}],
      nested: { b: 1, a: 2, B: 3 },
    };
    const floats = new Set(["/lora_dropout", "/alpha", "/big", "/nested/a"]);
    expect(pythonJsonDumps(value, floats)).toBe(
      '{\n  "alpha": 1.0,\n  "big": 1e+16,\n  "int": 7,\n  "list": [\n    0.5,\n    [],\n    {}\n  ],\n  "lora_dropout": 0.0,\n  "mid": 123.25,\n  "name": "Tigrinya \\u1275\\u130d\\u122d\\u129b \\"q\\"\\n\\u007f",\n  "neg": -2.5e-07,\n  "nested": {\n    "B": 3,\n    "a": 2.0,\n    "b": 1\n  },\n  "tiny": 1e-05\n}',
    );
  });

  it("prints floats as Python's repr", () => {
    const cases: Array<[number, string]> = [
      [0.1, "0.1"],
      [1 / 3, "0.3333333333333333"],
      [1e-4, "0.0001"],
      [9.999e-5, "9.999e-05"],
      [1e15, "1000000000000000.0"],
      [1.5e16, "1.5e+16"],
      [2 ** 60, "1.152921504606847e+18"],
      [5e-324, "5e-324"],
      [1.7976931348623157e308, "1.7976931348623157e+308"],
      [100, "100.0"],
      [-0, "-0.0"],
    ];
    for (const [n, text] of cases) expect(pythonNumber(n, true), String(n)).toBe(text);
    expect(pythonNumber(100, false)).toBe("100");
  });

  it("any finite double survives the round trip as a float", () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (n) => {
        const text = pythonNumber(n, true);
        expect(text).toMatch(/[.e]/);
        expect(Object.is(JSON.parse(text), n)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});

describe("floatPathsOf", () => {
  it("finds the numbers written with a fraction or an exponent, by JSON pointer", () => {
    const text = '{"a": 0.0, "b": [1, 2e0, {"c/d": 3.5}], "e": "1.0", "f~": 4, "g": -1E-2}';
    expect([...floatPathsOf(text)].sort()).toEqual(["/a", "/b/1", "/b/2/c~1d", "/g"]);
  });

  it("a parsed value written back with its float paths gives the same text (Python-written JSON)", () => {
    const json = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: "small" },
        fc.integer(),
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.string(),
        fc.boolean(),
        fc.constant(null),
        fc.array(tie("value"), { maxLength: 3 }),
        fc.dictionary(fc.string(), tie("value"), { maxKeys: 3 }),
      ),
    })).value;
    fc.assert(
      fc.property(json, (v) => {
        // Write as Python would with every double a float, read the float paths back, write again.
        const floats = new Set<string>();
        const mark = (x: unknown, path: string): void => {
          if (typeof x === "number" && !Number.isInteger(x)) floats.add(path);
          if (Array.isArray(x)) {
            for (const [i, y] of x.entries()) mark(y, `${path}/${i}`);
          } else if (x && typeof x === "object")
            for (const [k, y] of Object.entries(x)) mark(y, `${path}/${k.replace(/~/g, "~0").replace(/\//g, "~1")}`);
        };
        mark(v, "");
        const text = pythonJsonDumps(v, floats);
        expect(pythonJsonDumps(JSON.parse(text), floatPathsOf(text))).toBe(text);
      }),
      { numRuns: 300 },
    );
  });
});
