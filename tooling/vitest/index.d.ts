import type { UserWorkspaceConfig } from "vitest/config";

export declare const SOURCE_CONDITION: "@lowrank/source";
export declare const BACKEND_SETUP: string;
export interface LowrankProjectOptions {
  /** Initialize a tfjs backend (through @lowrank/runtime) before each test file. */
  tfjs?: boolean;
  test?: UserWorkspaceConfig["test"];
}
export declare function lowrankProject(name: string, options?: LowrankProjectOptions): UserWorkspaceConfig;
