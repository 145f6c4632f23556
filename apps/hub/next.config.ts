import type { NextConfig } from "next";

// Published workspace packages export `dist/` unless the `@lowrank/source` condition is set; the hub
// compiles their TypeScript sources instead, so it never waits for (or runs against a stale) build.
// The paths are relative to the app folder, which sits two levels below the workspace root.
const sources = {
  "@lowrank/formats": "../../packages/formats/src/index.ts",
  "@lowrank/runtime": "../../packages/runtime/src/index.ts",
  "@lowrank/core": "../../packages/core/src/index.ts",
};

const config: NextConfig = {
  // Workspace packages are TypeScript sources (their `exports` point at src/): compile them with the app.
  transpilePackages: ["@lowrank/api", "@lowrank/db", ...Object.keys(sources)],
  turbopack: { resolveAlias: sources },
  // Loaded by Node at run time, not bundled: PGlite reads its WASM and data files next to its own
  // module, and the postgres driver opens sockets.
  serverExternalPackages: ["@electric-sql/pglite", "postgres"],
  poweredByHeader: false,
};

export default config;
