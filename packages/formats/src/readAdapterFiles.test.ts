import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fixturePath } from "@lowrank/vitest-config/fixtures";
import { describe, expect, it } from "vitest";
import { isFormatError } from "./errors.js";
import { readAdapterFiles } from "./readAdapterFiles.js";
import { serializeSafetensors } from "./safetensors/serializeSafetensors.js";

const code = (f: () => unknown) => {
  try {
    f();
    return "ok";
  } catch (e) {
    return isFormatError(e) ? e.code : `untyped: ${(e as Error).message}`;
  }
};

describe("readAdapterFiles", () => {
  it("reads a PEFT folder and a GGUF LoRA, naming the format", () => {
    const dir = fixturePath("peft-gpt2-tigrinya-lora");
    const peft = readAdapterFiles({
      "adapter_config.json": readFileSync(join(dir, "adapter_config.json")),
      "adapter_model.safetensors": readFileSync(join(dir, "adapter_model.safetensors")),
    });
    expect(peft.format).toBe("peft");
    expect(peft.adapter.config.r).toBe(8);
    const gguf = readAdapterFiles(
      {
        "x.gguf": readFileSync(fixturePath("gguf-lora-gguf-py", "llama-lora-embd-q-down.gguf")),
        "README.md": new Uint8Array(),
      },
      { headCount: 2, headCountKv: 1 },
    );
    expect(gguf.format).toBe("gguf");
    expect(Object.keys(gguf.adapter.modules).length).toBeGreaterThan(0);
  });

  it("refuses what is no adapter with UnknownFormat, saying what was expected", () => {
    const plain = serializeSafetensors({ "w.weight": { dtype: "F32", shape: [1], data: new Float32Array(1) } });
    expect(code(() => readAdapterFiles({}))).toBe("UnknownFormat");
    expect(code(() => readAdapterFiles({ "a.gguf": new Uint8Array(1), "b.gguf": new Uint8Array(1) }))).toBe(
      "UnknownFormat",
    );
    expect(code(() => readAdapterFiles({ "notes.txt": new Uint8Array(1) }))).toBe("UnknownFormat");
    expect(code(() => readAdapterFiles({ "model.safetensors": plain }))).toBe("UnknownFormat");
    expect(() => readAdapterFiles({})).toThrow(/expected a PEFT folder .* found nothing/);
  });
});
