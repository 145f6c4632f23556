import { lowrankProject, SOURCE_CONDITION } from "@lowrank/vitest-config";
import type { UserWorkspaceConfig } from "vitest/config";

// Node's conditions only: the AWS SDK's "module" entries are extensionless ESM that Node cannot load.
const conditions = [SOURCE_CONDITION, "node", "import", "default"];
const config: UserWorkspaceConfig = {
  ...lowrankProject("api"),
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ["node"] } },
};

export default config;
