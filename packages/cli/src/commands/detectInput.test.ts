import { readFileSync } from "node:fs";
import { copyFile, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fixturePath } from "@lowrank/vitest-config/fixtures";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../program.js";
import { captureIO } from "../testing.js";
import { detectInput } from "./detectInput.js";

let tmp = "";
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), "lowrank-detect-"));
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

// The reference implementation's own vectors (fixtures/safetensors-vectors/manifest.json).
const dir = fixturePath("safetensors-vectors");
const vectors = (
  JSON.parse(readFileSync(path.join(dir, "manifest.json"), "utf8")) as {
    vectors: Array<{ file: string; expect: string }>;
  }
).vectors;
/** The reference's error names as @lowrank/formats codes (it calls a non-UTF-8 header InvalidHeader). */
const CODE: Record<string, string> = { InvalidHeader: "HeaderNotUtf8" };

async function inspectJson(file: string): Promise<{ rc: number; report: Record<string, unknown> }> {
  const io = captureIO();
  const rc = await runCli(["inspect", file, "--json"], io);
  return { rc, report: JSON.parse(io.out()) };
}

describe("format detection", () => {
  it.each(vectors.filter((v) => !v.file.startsWith("reject_")).map((v) => v.file))(
    "inspect accepts %s as the reference does",
    async (file) => {
      const { rc, report } = await inspectJson(path.join(dir, file));
      expect(rc, JSON.stringify(report)).toBe(0);
      expect(report.format).toBe("safetensors");
    },
  );

  it.each(vectors.filter((v) => v.file.startsWith("reject_")).map((v) => [v.file, v.expect.split(" ")[0] as string]))(
    "inspect refuses %s with the reader's own code (%s), not UnknownFormat",
    async (file, reference) => {
      const { rc, report } = await inspectJson(path.join(dir, file));
      expect(rc).toBe(1);
      expect((report.error as { code: string }).code).toBe(CODE[reference] ?? reference);
    },
  );

  it("sniffs content, not only the name: leading whitespace before '{' is still safetensors", async () => {
    const copy = path.join(tmp, "renamed.bin.st");
    await copyFile(path.join(dir, "accept_whitespace_leading_padded_header.safetensors"), copy);
    expect(await detectInput(copy)).toBe("safetensors");
  });

  it("content wins over the name: a GGUF file named .safetensors is read as GGUF", async () => {
    const misnamed = path.join(tmp, "model.safetensors");
    await copyFile(fixturePath("gguf-llama2-tiny-random", "llama-2-tiny-random.gguf"), misnamed);
    expect(await detectInput(misnamed)).toBe("gguf");
  });

  it("a file named .gguf without the magic is the GGUF reader's error, other unknown files UnknownFormat", async () => {
    const gguf = path.join(tmp, "x.gguf");
    await writeFile(gguf, new Uint8Array(64));
    const { report } = await inspectJson(gguf);
    expect((report.error as { code: string }).code).toBe("InvalidGguf");
    const other = path.join(tmp, "notes.txt");
    await writeFile(other, "hello, world; not a tensor file");
    expect((await inspectJson(other)).report).toMatchObject({ error: { code: "UnknownFormat" } });
  });
});
