import { lowrankProject } from "@lowrank/vitest-config";

export default lowrankProject("hub", { nodeConditions: true });
