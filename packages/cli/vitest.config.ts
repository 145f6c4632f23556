import { lowrankProject } from "@lowrank/vitest-config";

export default lowrankProject("cli", { tfjs: true });
