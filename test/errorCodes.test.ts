// One error type per package, each with a closed set of codes, recognised by name and code (two copies
// of a package may be installed, so never by `instanceof` alone) and never by message text.
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { CLI_ERROR_CODES, CliError, isCliError, runCli } from "@lowrank/cli";
import { CoreError, isCoreError } from "@lowrank/core";
import { FORMAT_ERROR_CODES, FormatError, isFormatError } from "@lowrank/formats";
import { errorResponse, HTTP_STATUS, isRuntimeError, RUNTIME_ERROR_CODES, RuntimeError } from "@lowrank/runtime";
import { describe, expect, it } from "vitest";
import { captureIO } from "../packages/cli/src/testing.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (name === "node_modules" || name === "dist" || name === ".next") continue;
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sources(p));
    else if (/\.tsx?$/.test(name) && !/\.test\.tsx?$/.test(name)) out.push(p);
  }
  return out;
}

// Branching on what an error's text says: `.message.includes(`, `/re/.test(e.message)`, `String(err).match(`...
const BY_MESSAGE =
  /\.message\s*\)?\s*\.\s*(?:includes|startsWith|endsWith|match|search|indexOf)\s*\(|\.test\(\s*\w+\.message\b|String\(\s*(?:e|err|error|cause)\s*\)\s*\.\s*(?:includes|match|startsWith|indexOf)\s*\(/;
// Node's own dlopen error for a library that loads but is not an addon has only the message to tell it
// from a library that does not load (both are ERR_DLOPEN_FAILED); the conformance suite asserts on text.
const ALLOWED = new Set(["packages/runtime/src/backend/webgpu-node.ts", "packages/core/src/kernels/conformance.ts"]);

describe("errors are recognised by code", () => {
  it("no source file branches on an error's message text", () => {
    const offenders: string[] = [];
    for (const dir of ["packages", "apps"]) {
      for (const file of sources(path.join(root, dir))) {
        const rel = path.relative(root, file);
        if (ALLOWED.has(rel)) continue;
        readFileSync(file, "utf8")
          .split("\n")
          .forEach((line, i) => {
            if (BY_MESSAGE.test(line)) offenders.push(`${rel}:${i + 1}: ${line.trim()}`);
          });
      }
    }
    expect(offenders).toEqual([]);
  });

  it("the published packages throw only their own error type", () => {
    const offenders: string[] = [];
    for (const pkg of ["core", "formats", "runtime", "cli"]) {
      for (const file of sources(path.join(root, "packages", pkg, "src"))) {
        const rel = path.relative(root, file);
        // The kernel conformance suite's assertion helpers report test failures, not refused input.
        if (rel.endsWith("testing.ts") || rel === "packages/core/src/kernels/conformance.ts") continue;
        readFileSync(file, "utf8")
          .split("\n")
          .forEach((line, i) => {
            if (/throw new (?:Type|Range)?Error\(/.test(line)) offenders.push(`${rel}:${i + 1}: ${line.trim()}`);
          });
      }
    }
    expect(offenders).toEqual([]);
  });

  it("each package's guard accepts its errors from any copy (by name and a known code) and nothing else", () => {
    const cases = [
      {
        guard: isFormatError,
        name: "FormatError",
        codes: FORMAT_ERROR_CODES,
        make: () => new FormatError("InvalidConfig", "x"),
      },
      {
        guard: isRuntimeError,
        name: "RuntimeError",
        codes: RUNTIME_ERROR_CODES,
        make: () => new RuntimeError("NotFound", "x"),
      },
      { guard: isCliError, name: "CliError", codes: CLI_ERROR_CODES, make: () => new CliError("x", "InvalidOption") },
    ] as const;
    for (const { guard, name, codes, make } of cases) {
      expect(guard(make())).toBe(true);
      for (const code of codes) {
        // An error from another installed copy of the package: same shape, different prototype.
        expect(guard(Object.assign(new Error("x"), { name, code })), code).toBe(true);
      }
      for (const code of ["", "Error", "internal", "EACCES", "constructor", 42]) {
        expect(guard(Object.assign(new Error("x"), { name, code })), String(code)).toBe(false);
      }
      expect(guard(new Error("x"))).toBe(false);
    }
    expect(isCoreError(new CoreError("InvalidConfig", "x"), "InvalidConfig")).toBe(true);
  });

  it("every runtime code answers with its HTTP status; other packages' errors are 400s; anything else is Internal", () => {
    for (const code of RUNTIME_ERROR_CODES) {
      const r = errorResponse(new RuntimeError(code, `m ${code}`));
      expect(r).toEqual({ status: HTTP_STATUS[code], body: { error: { code, message: `m ${code}` } } });
      expect(r.status).toBeGreaterThanOrEqual(400);
    }
    expect(errorResponse(new FormatError("HeaderTooLarge", "h")).status).toBe(400);
    expect(errorResponse(new CoreError("InvalidConfig", "c")).body.error.code).toBe("InvalidConfig");
    expect(errorResponse(new TypeError("boom"))).toEqual({
      status: 500,
      body: { error: { code: "Internal", message: "boom" } },
    });
  });

  it("the CLI's --json errors carry a code from a closed set", async () => {
    const known = new Set<string>([...CLI_ERROR_CODES, ...FORMAT_ERROR_CODES, ...RUNTIME_ERROR_CODES]);
    for (const argv of [
      ["inspect", path.join(root, "no-such-file.safetensors"), "--json"],
      ["inspect", path.join(root, "package.json"), "--json"],
    ]) {
      const io = captureIO();
      expect(await runCli(argv, io)).toBe(1);
      const { error } = JSON.parse(io.out()) as { error: { code: string; message: string } };
      expect(known.has(error.code), error.code).toBe(true);
      expect(error.message.length).toBeGreaterThan(0);
    }
  });
});
