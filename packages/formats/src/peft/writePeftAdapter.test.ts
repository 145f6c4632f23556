import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fixturePath } from "@lowrank/vitest-config/fixtures";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { adapterDigest } from "../digest.js";
import { parseSafetensors } from "../safetensors/parseSafetensors.js";
import { serializeSafetensors } from "../safetensors/serializeSafetensors.js";
import { parsePeftConfig, serializePeftConfig } from "./parsePeftConfig.js";
import { pythonJsonDumps } from "./pythonJson.js";
import { readPeftAdapter } from "./readPeftAdapter.js";
import { writePeftAdapter } from "./writePeftAdapter.js";

// Real adapters written by PEFT (see each folder's SOURCE.md): tigrinya (MIT), dialogpt (Apache-2.0).
const FIXTURES = ["peft-gpt2-tigrinya-lora", "peft-dialogpt-small-tiny-lora"];

function folder(name: string): Record<string, Uint8Array> {
  const files: Record<string, Uint8Array> = {};
  for (const f of ["adapter_config.json", "adapter_model.safetensors", "README.md"]) {
    try {
      files[f] = new Uint8Array(readFileSync(join(fixturePath(name), f)));
    } catch {
      // the tigrinya folder has no model card
    }
  }
  return files;
}

function expectSameFiles(actual: Record<string, Uint8Array>, expected: Record<string, Uint8Array>): void {
  expect(Object.keys(actual).sort()).toEqual(Object.keys(expected).sort());
  for (const [f, bytes] of Object.entries(expected)) {
    expect(Buffer.from(actual[f] as Uint8Array).equals(Buffer.from(bytes)), f).toBe(true);
  }
}

const text = (s: string) => new TextEncoder().encode(s);

describe("writing a PEFT folder that was read and not changed gives the same bytes", () => {
  for (const name of FIXTURES) {
    it(`${name}: every file byte for byte, so the adapter digest is unchanged`, () => {
      const files = folder(name);
      const written = writePeftAdapter(readPeftAdapter(files).adapter);
      expectSameFiles(written, files);
      expect(adapterDigest(written)).toBe(adapterDigest(files));
    });
  }

  it("safetensors without __metadata__ stays without (no {format: pt} added)", () => {
    const files = folder(FIXTURES[1] as string);
    const st = parseSafetensors(files["adapter_model.safetensors"] as Uint8Array);
    const bare = serializeSafetensors(Object.fromEntries(st.names().map((n) => [n, st.getTensor(n)])), null);
    const input = { ...files, "adapter_model.safetensors": bare };
    const { adapter } = readPeftAdapter(input);
    expect(adapter.metadata).toBeNull();
    expectSameFiles(writePeftAdapter(adapter), input);
  });

  it("floats stay floats (0.0, 1.0, 1e-05), ints stay ints, missing keys stay missing", () => {
    const config =
      '{\n  "alpha_pattern": {\n    "c_proj": 2.0\n  },\n  "lora_alpha": 16,\n  "lora_dropout": 0.0,\n  "r": 4,\n  "scale_hint": 1e-05,\n  "target_modules": [\n    "c_attn",\n    "c_proj"\n  ],\n  "weight": 1.0\n}';
    const { config: parsed } = parsePeftConfig(text(config));
    expect(parsed.lora_dropout).toBe(0);
    expect(parsed.use_rslora).toBe(false); // filled in for readers...
    expect(new TextDecoder().decode(serializePeftConfig(parsed))).toBe(config); // ...and not written back
  });

  it("a changed config is written as PEFT writes it: sorted keys, Python floats and escapes, no trailing newline", () => {
    const { config } = parsePeftConfig(text('{"r": 4, "lora_dropout": 0.0, "base_model_name_or_path": "ሰላም"}'));
    const changed = { ...config, r: 8 };
    const out = new TextDecoder().decode(serializePeftConfig(changed));
    expect(out).toContain('\n  "lora_dropout": 0.0,\n');
    expect(out).toContain('"base_model_name_or_path": "\\u1230\\u120b\\u121d"');
    expect(out).toContain('\n  "r": 8,\n');
    expect(out.endsWith("}")).toBe(true);
    const keys = Object.keys(JSON.parse(out));
    expect(keys).toEqual([...keys].sort());
    // A config built in code writes lora_dropout as a float, as PEFT's dataclass (float = 0.0) does.
    const fresh = new TextDecoder().decode(serializePeftConfig({ ...config, lora_dropout: 0 }));
    expect(fresh).toContain('"lora_dropout": 0.0');
  });

  it("any config PEFT could have written (random keys, floats written as floats) reads and writes back byte for byte", () => {
    const weights = folder(FIXTURES[1] as string)["adapter_model.safetensors"] as Uint8Array;
    const name = fc.stringMatching(/^[a-z_]{1,8}$/);
    const config = fc.record(
      {
        r: fc.constant(8), // the rank of the dialogpt weights used with it
        lora_alpha: fc.oneof(fc.integer({ min: 1, max: 64 }), fc.double({ min: 0.5, max: 64, noNaN: true })),
        lora_dropout: fc.double({ min: 0, max: 0.99, noNaN: true }),
        target_modules: fc.array(name, { maxLength: 3 }),
        alpha_pattern: fc.oneof(fc.constant(null), fc.dictionary(name, fc.integer({ min: 1, max: 9 }), { maxKeys: 2 })),
        rank_pattern: fc.constant(null),
        use_rslora: fc.boolean(),
        base_model_name_or_path: fc.oneof(fc.constant(null), fc.string()),
        some_future_key: fc.jsonValue(),
      },
      { requiredKeys: ["r"] },
    );
    fc.assert(
      fc.property(config, fc.boolean(), (raw, floatAlpha) => {
        // PEFT's dataclass holds lora_dropout as a float; lora_alpha may be either.
        const floats = new Set(["/lora_dropout", ...(floatAlpha ? ["/lora_alpha"] : [])]);
        const text = pythonJsonDumps(raw, floats);
        const files = { "adapter_config.json": new TextEncoder().encode(text), "adapter_model.safetensors": weights };
        expectSameFiles(writePeftAdapter(readPeftAdapter(files).adapter), files);
      }),
      { numRuns: 100 },
    );
  });
});
