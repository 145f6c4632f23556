import { lowrankProject, SOURCE_CONDITION } from "@lowrank/vitest-config";

// Node's conditions only: the AWS SDK's "module" entries are extensionless ESM that Node cannot load.
const conditions = [SOURCE_CONDITION, "node", "import", "default"];
const config = lowrankProject("api");

export default { ...config, resolve: { conditions }, ssr: { resolve: { conditions, externalConditions: ["node"] } } };
