import { lowrankProject } from "@lowrank/vitest-config";

export default lowrankProject("api", { nodeConditions: true });
