import type { NextConfig } from "next";

// Published workspace packages export `dist/` unless the `@lowrank/source` condition is set; the hub
// compiles their TypeScript sources instead, so it never waits for (or runs against a stale) build.
// The paths are relative to the app folder, which sits two levels below the workspace root.
const sources = {
  "@lowrank/formats": "../../packages/formats/src/index.ts",
  "@lowrank/runtime": "../../packages/runtime/src/index.ts",
  "@lowrank/core": "../../packages/core/src/index.ts",
  // Imported lazily by the runtime's Node-only helpers (merging a folder to disk).
  "@lowrank/formats/node": "../../packages/formats/src/safetensors/node.ts",
};

// The playground bundles @lowrank/runtime for the browser. Its Node-only WebGPU helper imports the
// `webgpu` package (Dawn for Node) lazily; browsers have WebGPU built in, so there it is a stub.
const browserOnly = {
  webgpu: { browser: "./src/components/webgpuStub.ts" },
};

const config: NextConfig = {
  // Workspace packages are TypeScript sources (their `exports` point at src/): compile them with the app.
  transpilePackages: ["@lowrank/api", "@lowrank/db", "@lowrank/formats", "@lowrank/runtime", "@lowrank/core"],
  turbopack: { resolveAlias: { ...sources, ...browserOnly } },
  // Loaded by Node at run time, not bundled: PGlite reads its WASM and data files next to its own
  // module, and the postgres driver opens sockets. `webgpu` loads a native addon.
  serverExternalPackages: ["@electric-sql/pglite", "postgres", "webgpu"],
  poweredByHeader: false,
};

export default config;
