import type { NextConfig } from "next";

const config: NextConfig = {
  // Workspace packages are TypeScript sources (their `exports` point at src/): compile them with the app.
  transpilePackages: ["@lowrank/api", "@lowrank/db"],
  // Loaded by Node at run time, not bundled: PGlite reads its WASM and data files next to its own
  // module, and the postgres driver opens sockets.
  serverExternalPackages: ["@electric-sql/pglite", "postgres"],
  poweredByHeader: false,
};

export default config;
