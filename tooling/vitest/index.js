// Plain JavaScript on purpose: vitest loads config files through Node, which cannot import
// TypeScript from node_modules. Types are in index.d.ts.
import { fileURLToPath } from "node:url";
import { defaultClientConditions, defaultServerConditions } from "vite";
import { defineProject } from "vitest/config";

/** Export condition that points workspace packages at their TypeScript sources. */
export const SOURCE_CONDITION = "@lowrank/source";

/** Setup file that initializes the TensorFlow.js backend through `@lowrank/runtime`. */
export const BACKEND_SETUP = fileURLToPath(new URL("./setup-backend.ts", import.meta.url));

/**
 * Shared per-package vitest project config. Workspace packages resolve to `src/`
 * through the `@lowrank/source` export condition, so no test waits for a build.
 * @param {string} name
 * `nodeConditions` resolves dependencies with Node's conditions only (for server code whose
 * dependencies ship "module" builds Node cannot load, such as the AWS SDK).
 * @param {{ tfjs?: boolean, nodeConditions?: boolean, test?: Record<string, unknown> }} [options]
 */
export function lowrankProject(name, options = {}) {
  const { tfjs = false, nodeConditions = false, test = {} } = options;
  const node = [SOURCE_CONDITION, "node", "import", "default"];
  return defineProject({
    resolve: { conditions: nodeConditions ? node : [SOURCE_CONDITION, ...defaultClientConditions] },
    ssr: {
      resolve: nodeConditions
        ? { conditions: node, externalConditions: ["node"] }
        : { conditions: [SOURCE_CONDITION, ...defaultServerConditions] },
    },
    test: {
      name,
      environment: "node",
      include: ["src/**/*.test.ts", "test/**/*.test.ts"],
      testTimeout: 60_000,
      hookTimeout: 120_000,
      setupFiles: tfjs ? [BACKEND_SETUP] : [],
      ...test,
    },
  });
}
