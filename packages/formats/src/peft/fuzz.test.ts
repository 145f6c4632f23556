// Property-based tests of the PEFT config parser and adapter reader: any input gives a config or
// a FormatError (InvalidConfig and friends), and valid configs survive a write/read round trip.
import { readFileSync } from "node:fs";
import { fixturePath } from "@lowrank/vitest-config/fixtures";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { serializeSafetensors } from "../safetensors/serializeSafetensors.js";
import { formatOutcome as code } from "../testing.js";
import { parsePeftConfig, serializePeftConfig } from "./parsePeftConfig.js";
import { readPeftAdapter } from "./readPeftAdapter.js";

const real = readFileSync(fixturePath("peft-gpt2-tigrinya-lora", "adapter_config.json"), "utf8");

it("a module named __proto__ stays a plain key", () => {
  const t = { dtype: "F32" as const, shape: [1, 1], data: new Uint8Array(4) };
  const files = {
    "adapter_config.json": new TextEncoder().encode(JSON.stringify({ r: 1, modules_to_save: ["__proto__"] })),
    "adapter_model.safetensors": serializeSafetensors({
      "base_model.model.__proto__.lora_A.weight": t,
      "base_model.model.__proto__.lora_B.weight": t,
      "base_model.model.__proto__.modules_to_save.polluted": t,
      ["__proto__"]: t,
    }),
  };
  const { adapter } = readPeftAdapter(files);
  expect(Object.keys(adapter.modules)).toEqual(["__proto__"]);
  expect(Object.keys(adapter.otherTensors)).toEqual(["__proto__"]);
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
});

// Module names and patterns: valid regular expressions (a pattern that does not compile is InvalidConfig).
const moduleName = fc.stringMatching(/^[a-z0-9_.]{0,12}$/);
const validConfig = fc.record(
  {
    r: fc.integer({ min: 1, max: 256 }),
    lora_alpha: fc.double({ min: 0, max: 512, noNaN: true }),
    target_modules: fc.oneof(fc.constant(null), moduleName, fc.array(fc.string(), { maxLength: 4 })),
    fan_in_fan_out: fc.boolean(),
    rank_pattern: fc.dictionary(moduleName, fc.integer({ min: 1, max: 64 }), { maxKeys: 3 }),
    alpha_pattern: fc.dictionary(moduleName, fc.double({ min: 0, max: 64, noNaN: true }), { maxKeys: 3 }),
    use_rslora: fc.boolean(),
    future_option: fc.jsonValue(),
  },
  { requiredKeys: ["r"] },
);

describe("PEFT config parser properties", () => {
  it("any JSON value gives a config or InvalidConfig", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        expect(["ok", "InvalidConfig"]).toContain(code(() => parsePeftConfig(JSON.stringify(v) ?? "null")));
        expect(["ok", "InvalidConfig"]).toContain(code(() => parsePeftConfig(v)));
      }),
      { numRuns: 500 },
    );
  });

  it("random edits of a real config give a config or InvalidConfig", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        (edits) => {
          const bytes = new TextEncoder().encode(real);
          for (const [at, b] of edits) bytes[at % bytes.length] = b;
          const c = code(() => parsePeftConfig(bytes));
          expect(["ok", "InvalidConfig"]).toContain(c);
        },
      ),
      { numRuns: 500 },
    );
  });

  it("valid configs round-trip through serializePeftConfig, unknown keys warned and kept", () => {
    fc.assert(
      fc.property(validConfig, (raw) => {
        const { config, warnings } = parsePeftConfig(JSON.stringify(raw));
        expect(warnings.length).toBe("future_option" in raw ? 1 : 0);
        const again = parsePeftConfig(serializePeftConfig(config));
        expect(again.config).toEqual(config);
        expect(serializePeftConfig(again.config)).toEqual(serializePeftConfig(config));
      }),
      { numRuns: 300 },
    );
  });

  it("the adapter reader gives an adapter or a FormatError for random safetensors contents", () => {
    const tensor = fc.record({
      dtype: fc.constantFrom("F32" as const, "F16" as const),
      shape: fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 3 }),
    });
    const key = fc.oneof(
      fc.string(),
      fc
        .tuple(
          fc.constantFrom("a", "b.c", "x.y.z", "__proto__", "constructor"),
          fc.constantFrom(
            "lora_A.weight",
            "lora_B.weight",
            "lora_B.bias",
            "lora_embedding_A",
            "lora_embedding_B",
            "modules_to_save.weight",
          ),
        )
        .map(([m, p]) => `base_model.model.${m}.${p}`),
    );
    fc.assert(
      fc.property(fc.dictionary(key, tensor, { maxKeys: 5 }), fc.integer({ min: 1, max: 4 }), (tensors, r) => {
        const inputs = Object.fromEntries(
          Object.entries(tensors).map(([k, t]) => [
            k,
            { ...t, data: new Uint8Array(t.shape.reduce((a, b) => a * b, 1) * (t.dtype === "F32" ? 4 : 2)) },
          ]),
        );
        const files = {
          "adapter_config.json": new TextEncoder().encode(JSON.stringify({ r })),
          "adapter_model.safetensors": serializeSafetensors(inputs),
        };
        const c = code(() => readPeftAdapter(files));
        expect(c).not.toBe("");
        expect(({} as Record<string, unknown>).weight).toBeUndefined(); // no prototype pollution
      }),
      { numRuns: 300 },
    );
  });
});
