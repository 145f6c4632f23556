import { lowrankProject } from "@lowrank/vitest-config";

export default lowrankProject("bench", {
  tfjs: true,
  test: { include: ["*.test.ts", "suites/*.test.ts", "onnx/*.test.ts"] },
});
