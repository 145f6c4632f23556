import { fileURLToPath } from "node:url";
import { defaultClientConditions, defaultServerConditions } from "vite";
import { defineProject, type UserWorkspaceConfig } from "vitest/config";

/** Export condition that points workspace packages at their TypeScript sources. */
export const SOURCE_CONDITION = "@lowrank/source";

/** Setup file that initializes the TensorFlow.js backend through `@lowrank/runtime`. */
export const BACKEND_SETUP = fileURLToPath(new URL("./setup-backend.ts", import.meta.url));

export interface LowrankProjectOptions {
  /** Initialize a tfjs backend before each test file (default false). */
  tfjs?: boolean;
  test?: UserWorkspaceConfig["test"];
}

/**
 * Shared per-package vitest project config. Workspace packages resolve to `src/`
 * through the `@lowrank/source` export condition, so no test waits for a build.
 */
export function lowrankProject(name: string, options: LowrankProjectOptions = {}) {
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
