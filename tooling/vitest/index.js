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
 * @param {{ tfjs?: boolean, test?: Record<string, unknown> }} [options]
 */
export function lowrankProject(name, options = {}) {
  const { tfjs = false, test = {} } = options;
  return defineProject({
    resolve: { conditions: [SOURCE_CONDITION, ...defaultClientConditions] },
    ssr: { resolve: { conditions: [SOURCE_CONDITION, ...defaultServerConditions] } },
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
