// Packs each published package the way `pnpm publish` would, installs the tarballs into an empty
// project with npm, and imports and calls something from each in plain Node. A broken `exports`
// map, a file missing from `files`, or a dependency that is only a devDependency fails here.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { pnpmCommand } from "@lowrank/vitest-config/pnpm";
import { afterAll, describe, expect, it } from "vitest";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const published = ["formats", "core", "runtime", "cli"];
const pnpm = pnpmCommand();
const work = mkdtempSync(path.join(os.tmpdir(), "lowrank-pack-"));

function run(cmd: string[], cwd: string): string {
  return execFileSync(cmd[0]!, cmd.slice(1), {
    cwd,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    maxBuffer: 64 << 20,
  });
}

const check = `
import { initBackend } from "@lowrank/runtime";
import { initWasmBackend } from "@lowrank/runtime/wasm";
import { startEngineServer } from "@lowrank/runtime/node";
import * as formats from "@lowrank/formats";
import * as core from "@lowrank/core";
import { runCli } from "@lowrank/cli";
import * as tf from "@tensorflow/tfjs-core";

const info = await initWasmBackend();
const again = await initBackend({ backend: "wasm" });
// formats: write and read back a safetensors file
const data = new Uint8Array(new Float32Array([1, 2, 3, 4]).buffer);
const bytes = formats.serializeSafetensors({ w: { dtype: "F32", shape: [2, 2], data } });
const parsed = formats.parseSafetensors(bytes);
// core: a LoRA config parses and the SVD-based rank tools run on tfjs tensors
const config = core.parseLoraConfig({ r: 4, lora_alpha: 8, target_modules: ["q_proj"] });
let cliOut = "";
const io = { stdout: { write: (s) => { cliOut += s; return true; } }, stderr: { write: () => true } };
const code = await runCli(["doctor", "--json", "--backend", "wasm"], io);
console.log(JSON.stringify({
  backend: info.backend,
  sameBackend: again === info,
  nodeEntry: typeof startEngineServer,
  simd: info.simd,
  tensors: [...parsed.tensors.keys()],
  r: config.r,
  cliCode: code,
  cliBackend: JSON.parse(cliOut).backend.name,
  tfBackend: tf.getBackend(),
}));
`;

describe("published packages", () => {
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it("build, pack, install with npm into an empty project, import and call each", () => {
    run([...pnpm, ...published.flatMap((p) => ["--filter", `@lowrank/${p}`]), "run", "build"], root);
    const tarballs: string[] = [];
    for (const p of published) {
      run([...pnpm, "pack", "--pack-destination", work], path.join(root, "packages", p));
    }
    for (const f of readdirSync(work)) if (f.endsWith(".tgz")) tarballs.push(path.join(work, f));
    expect(tarballs).toHaveLength(published.length);

    const app = path.join(work, "app");
    run(["mkdir", "-p", app], work);
    writeFileSync(path.join(app, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
    run(["npm", "install", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error", ...tarballs], app);
    writeFileSync(path.join(app, "check.mjs"), check);
    const out = JSON.parse(run([process.execPath, "check.mjs"], app).trim().split("\n").at(-1)!);
    expect(out).toEqual({
      backend: "wasm",
      sameBackend: true,
      nodeEntry: "function",
      simd: true,
      tensors: ["w"],
      r: 4,
      cliCode: 0,
      cliBackend: "wasm",
      tfBackend: "wasm",
    });
    // The bin works from the installed package too.
    const doctor = JSON.parse(
      run([path.join(app, "node_modules", ".bin", "lowrank"), "doctor", "--json", "--backend", "cpu"], app),
    );
    expect(doctor.backend.name).toBe("cpu");
  });
});
