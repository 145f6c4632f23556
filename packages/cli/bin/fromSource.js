// Runs the CLI from the repository's sources without a TypeScript loader at run time: the CLI and the
// workspace packages it uses (resolved through the `@lowrank/source` condition) are bundled by esbuild
// into one cached file, rebuilt only when a source file changed; dependencies stay external, imported
// from where the sources import them. A command that loads TypeScript from elsewhere (`train` imports
// `.ts` recipes) runs through tsx instead.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const cli = fileURLToPath(new URL("..", import.meta.url));
const packages = path.dirname(cli);
const SOURCES = ["cli", "core", "formats", "runtime"].map((p) => path.join(packages, p));
const entry = path.join(cli, "src", "bin.ts");

/** Stamp of every source file the bundle is made of (paths, sizes, modification times). */
function stamp() {
  const hash = createHash("sha256");
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(ts|js|json)$/.test(e.name) && !/\.test\.ts$/.test(e.name)) {
        const s = statSync(p);
        hash.update(`${p}\0${s.size}\0${s.mtimeMs}\n`);
      }
    }
  };
  for (const dir of SOURCES) {
    walk(path.join(dir, "src"));
    hash.update(readFileSync(path.join(dir, "package.json")));
  }
  return hash.digest("hex").slice(0, 16);
}

/** Bundles the sources into `out` (written beside it, then renamed, so concurrent runs never see half a file). */
async function bundle(out) {
  const require = createRequire(path.join(cli, "package.json"));
  const esbuild = await import(pathToFileURL(require.resolve("esbuild")).href);
  const sourceRoots = SOURCES.map((d) => `${path.join(d, "src")}${path.sep}`);
  const result = await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: "esm",
    platform: "node",
    target: "node20",
    conditions: ["@lowrank/source"],
    logLevel: "silent",
    plugins: [
      {
        name: "lowrank-sources",
        setup(build) {
          // Dependencies stay external, at the file Node would load for the source that imports them.
          build.onResolve({ filter: /^[^./]/ }, async (args) => {
            if (args.path.startsWith("@lowrank/") || args.path.startsWith("node:") || args.pluginData === "inner")
              return undefined;
            const found = await build.resolve(args.path, {
              kind: args.kind,
              resolveDir: args.resolveDir,
              pluginData: "inner",
            });
            if (found.errors.length > 0 || !found.path) return { path: args.path, external: true };
            return { path: pathToFileURL(found.path).href, external: true };
          });
          // `import.meta.url` keeps meaning the source file (the runtime finds the wasm binaries from it).
          build.onLoad({ filter: /\.ts$/ }, (args) => {
            if (!sourceRoots.some((r) => args.path.startsWith(r))) return undefined;
            const text = readFileSync(args.path, "utf8");
            if (!text.includes("import.meta.url")) return undefined;
            return {
              contents: text.replaceAll("import.meta.url", JSON.stringify(pathToFileURL(args.path).href)),
              loader: "ts",
            };
          });
        },
      },
    ],
  });
  const tmp = `${out}.${process.pid}.tmp`;
  writeFileSync(tmp, result.outputFiles[0].contents);
  renameSync(tmp, out);
  // Bundles of earlier sources are stale for good (one younger than a minute may be another run's).
  for (const f of readdirSync(path.dirname(out))) {
    const file = path.join(path.dirname(out), f);
    if (f.endsWith(".mjs") && file !== out && statSync(file).mtimeMs < Date.now() - 60_000)
      rmSync(file, { force: true });
  }
}

if (process.argv[2] === "train") {
  // Recipes are TypeScript modules importing the workspace packages: load them the way the tests do.
  const require = createRequire(path.join(cli, "package.json"));
  const tsx = require.resolve("tsx");
  const child = spawn(
    process.execPath,
    ["--conditions=@lowrank/source", "--import", pathToFileURL(tsx).href, entry, ...process.argv.slice(2)],
    { stdio: "inherit" },
  );
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, () => child.kill(signal));
  child.on("exit", (code, signal) => {
    if (signal) process.kill(process.pid, signal);
    else process.exit(code ?? 1);
  });
} else {
  const cache = path.join(cli, "node_modules", ".cache", "lowrank-cli");
  const out = path.join(cache, `bin-${stamp()}.mjs`);
  if (!existsSync(out)) {
    mkdirSync(cache, { recursive: true });
    await bundle(out);
  }
  await import(pathToFileURL(out).href);
}
