import { getTableColumns } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import type { z } from "zod";
import { adapters, adapterVersions, insertAdapterSchema, insertAdapterVersionSchema } from "./schema.js";

/** Columns a caller must supply: NOT NULL without a default. */
function requiredColumns(table: typeof adapters | typeof adapterVersions): string[] {
  return Object.entries(getTableColumns(table))
    .filter(([, c]) => c.notNull && !c.hasDefault)
    .map(([key]) => key)
    .sort();
}

describe("insert schemas agree with their tables", () => {
  for (const [table, schema] of [
    [adapters, insertAdapterSchema],
    [adapterVersions, insertAdapterVersionSchema],
  ] as const) {
    it(`every field of the ${table === adapters ? "adapters" : "adapter_versions"} schema is a column; required columns are required`, () => {
      const columns = Object.keys(getTableColumns(table));
      const shape: Record<string, z.ZodType> = schema.shape;
      const fields = Object.keys(shape);
      for (const f of fields) expect(columns).toContain(f);
      const requiredFields = fields.filter((f) => !shape[f]?.safeParse(undefined).success);
      expect(requiredFields.sort()).toEqual(requiredColumns(table));
    });
  }
});

describe("insertAdapterSchema", () => {
  const valid = {
    owner: "alice",
    name: "x",
    baseModel: "gpt2",
    ownerId: "u1",
    baseId: "7f1d4a3e-9b2c-4c1e-8f00-1234567890ab",
    baseDigest: "0".repeat(64),
  };
  it("accepts slugs and a 64-hex base digest", () => {
    const ok = insertAdapterSchema.safeParse({
      owner: "alice",
      name: "gpt2-lora.v1",
      baseModel: "gpt2",
      baseDigest: "0".repeat(64),
      ownerId: "u1",
      baseId: "7f1d4a3e-9b2c-4c1e-8f00-1234567890ab",
    });
    expect(ok.success).toBe(true);
  });
  it.each([
    [{ ...valid, owner: "Alice" }, "owner"],
    [{ ...valid, name: "-x" }, "name"],
    [{ ...valid, baseModel: "" }, "baseModel"],
    [{ ...valid, baseDigest: "ABC" }, "baseDigest"],
  ])("rejects %o at %s", (input, field) => {
    const result = insertAdapterSchema.safeParse(input);
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.path[0])).toEqual([field]);
  });
});

describe("insertAdapterVersionSchema", () => {
  const valid = {
    adapterId: "7f1d4a3e-9b2c-4c1e-8f00-1234567890ab",
    version: "v1",
    digest: "f".repeat(64),
    rank: 8,
    alpha: 16,
    targetModules: ["transformer.h.0.attn.c_attn"],
    sizeBytes: 4096,
  };
  it("accepts a well-formed version", () => {
    expect(insertAdapterVersionSchema.parse(valid)).toEqual(valid);
  });
  it.each([
    ["rank", 0],
    ["rank", 2.5],
    ["alpha", -1],
    ["digest", "f".repeat(63)],
    ["targetModules", []],
    ["format", "onnx"],
    ["sizeBytes", -1],
  ])("rejects %s = %o", (field, value) => {
    const result = insertAdapterVersionSchema.safeParse({ ...valid, [field]: value });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path[0]).toBe(field);
  });
});
