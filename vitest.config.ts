import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: ["packages/*", "apps/hub", "examples", "bench", "test"],
    // Two cores: keep file parallelism modest so tfjs-heavy suites don't starve each other.
    maxWorkers: 2,
    reporters: ["default", "./tooling/vitest/summary-reporter.js"],
  },
});
