import { lowrankProject } from "@lowrank/vitest-config";

export default lowrankProject("core", { tfjs: true });
