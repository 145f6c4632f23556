import { lowrankProject } from "@lowrank/vitest-config";

// Suites that span packages: packing the published packages, the README's examples.
export default lowrankProject("e2e", { tfjs: true, test: { include: ["*.test.ts"], testTimeout: 600_000 } });
