import { lowrankProject } from "@lowrank/vitest-config";

export default lowrankProject("examples", { tfjs: true });
