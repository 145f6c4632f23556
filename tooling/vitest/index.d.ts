import type { UserWorkspaceConfig } from "vitest/config";

export declare const SOURCE_CONDITION: "@lowrank/source";
export declare const BACKEND_SETUP: string;
export interface LowrankProjectOptions {
  /** Initialize a tfjs backend (through @lowrank/runtime) before each test file. */
  tfjs?: boolean;
  /** Resolve with Node's conditions only (server code whose dependencies ship "module" builds Node cannot load). */
  nodeConditions?: boolean;
  test?: UserWorkspaceConfig["test"];
}
export declare function lowrankProject(name: string, options?: LowrankProjectOptions): UserWorkspaceConfig;
