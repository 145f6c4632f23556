import type { NextConfig } from "next";

// Published workspace packages export `dist/` unless the `@lowrank/source` condition is set; the hub
// compiles their TypeScript sources instead, so it never waits for (or runs against a stale) build.
// The paths are relative to the app folder, which sits two levels below the workspace root.
const sources = {
  "@lowrank/formats": "../../packages/formats/src/index.ts",
  "@lowrank/runtime": "../../packages/runtime/src/index.ts",
  "@lowrank/core": "../../packages/core/src/index.ts",
};

// The playground bundles @lowrank/runtime for the browser. Its Node-only paths (reading folders, wasm
// threads in Node, the HTTP server, Dawn for Node) import Node modules behind "is this Node?" checks;
// in browser bundles those imports resolve to stubs that are never called.
const NODE_STUB = "./src/components/nodeStub.ts";
const browserOnly = Object.fromEntries([
  ["webgpu", { browser: "./src/components/webgpuStub.ts" }],
  // Imported lazily by the runtime's folder merge: the sources on the server, a stub in browsers.
  ["@lowrank/formats/node", { browser: NODE_STUB, default: "../../packages/formats/src/safetensors/node.ts" }],
  ...["node:fs", "node:fs/promises", "node:os", "node:path", "node:module", "node:http", "node:worker_threads"].map(
    (name) => [name, { browser: NODE_STUB }],
  ),
]);

const config: NextConfig = {
  // Workspace packages are TypeScript sources (their `exports` point at src/): compile them with the app.
  transpilePackages: [
    "@lowrank/api",
    "@lowrank/db",
    "@lowrank/formats",
    "@lowrank/runtime",
    "@lowrank/core",
    "@lowrank/examples",
  ],
  turbopack: { resolveAlias: { ...sources, ...browserOnly } },
  // Loaded by Node at run time, not bundled: PGlite reads its WASM and data files next to its own
  // module, and the postgres driver opens sockets. `webgpu` loads a native addon.
  serverExternalPackages: ["@electric-sql/pglite", "postgres", "webgpu"],
  poweredByHeader: false,
};

export default config;
