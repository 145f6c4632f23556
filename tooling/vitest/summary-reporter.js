// Prints the closing line CI reads ("N passed, N failed, N skipped") after vitest's own summary,
// and under CI=true lists every skipped test with the file it sits in, so a skip is never silent.

/** @implements {import('vitest/reporters').Reporter} */
export default class SummaryReporter {
  /** @param {ReadonlyArray<import('vitest/node').TestModule>} testModules */
  onTestRunEnd(testModules) {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    const skippedNames = [];
    for (const mod of testModules) {
      for (const test of mod.children.allTests()) {
        const state = test.result().state;
        if (state === "passed") passed++;
        else if (state === "failed") failed++;
        else {
          skipped++;
          skippedNames.push(`${mod.moduleId.replace(process.cwd() + "/", "")} > ${test.fullName}`);
        }
      }
      if (mod.state() === "failed" && mod.children.size === 0) failed++;
    }
    if (process.env.CI === "true" && skippedNames.length) {
      process.stdout.write(
        `\nSkipped under CI (each must state its reason in its name):\n${skippedNames.map((n) => `  - ${n}`).join("\n")}\n`,
      );
    }
    process.stdout.write(`\n${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}
