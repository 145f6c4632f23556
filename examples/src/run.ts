// Full demo runs: `npx tsx --conditions=@lowrank/source examples/src/run.ts <mnist|sentiment|translation|language>`.
// Trains the base, the adapters, full fine-tunes and a rank sweep; rewrites the task's section of
// examples/RESULTS.md and writes the base and adapters to examples/out/<task>/. `language` (the GPT-2
// per-language demo, see languageDemo.ts) writes its committed artifacts to examples/artifacts/udhr-gpt2/.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { initBackend } from "@lowrank/runtime";
import { BASE_NAME, runLanguageDemo } from "./languageDemo.js";
import { saveBase, savePeftAdapter } from "./lib/artifacts.js";
import { disposeDomains } from "./lib/disposeTask.js";
import { runExperiment, type TaskSpec } from "./lib/experiment.js";
import { languageResultsSection, writeLanguageCards } from "./lib/languageReport.js";
import { resultsSection, writeResultsSection } from "./lib/report.js";
import { mnistReport, mnistTask } from "./recipes/mnist.js";
import { sentimentReport, sentimentTask } from "./recipes/sentiment.js";
import { translationReport, translationTask } from "./recipes/translation.js";

type Spec = Omit<TaskSpec, "log" | "onAdapter" | "onBase">;
const TASKS: Record<string, { spec: () => Spec; report: { title: string; notes: string[] } }> = {
  mnist: { spec: () => mnistTask(), report: mnistReport },
  sentiment: { spec: () => sentimentTask(), report: sentimentReport },
  translation: { spec: () => translationTask(), report: translationReport },
};

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const slug = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "");

async function language(): Promise<void> {
  const command = "npx tsx --conditions=@lowrank/source examples/src/run.ts language";
  const out = path.join(root, "artifacts", BASE_NAME);
  const result = await runLanguageDemo({ out, log: (l) => console.log(`language: ${l}`) });
  writeLanguageCards(result, out, BASE_NAME, command);
  writeResultsSection(path.join(root, "RESULTS.md"), "language", languageResultsSection(result, command));
  console.log(
    `language: done in ${(result.totalMs / 1000).toFixed(1)} s; RESULTS.md and ${path.relative(process.cwd(), out)}/ written`,
  );
}

async function main(names: string[]): Promise<void> {
  if (names.length === 0 || names.some((n) => !(n in TASKS) && n !== "language")) {
    console.error(
      `usage: run.ts <${[...Object.keys(TASKS), "language"].join("|")}>... (found ${JSON.stringify(names)})`,
    );
    process.exitCode = 2;
    return;
  }
  await initBackend({ backend: "wasm" });
  for (const name of names) {
    if (name === "language") {
      await language();
      continue;
    }
    const task = TASKS[name] as (typeof TASKS)[string];
    const spec = task.spec();
    const out = path.join(root, "out", name);
    const result = await runExperiment({
      ...spec,
      log: (l) => console.log(l),
      onBase: (base) => saveBase(path.join(out, "base"), base, { task: name, note: "tfjs Dense layout [in, out]" }),
      onAdapter: (target, lora) =>
        savePeftAdapter(path.join(out, slug(target)), lora, "default", { task: name, domain: target }),
    });
    disposeDomains([spec.source, ...spec.targets]);
    const md = resultsSection(result, {
      ...task.report,
      metricName: spec.metricName,
      rank: spec.adapter.rank,
      command: `npx tsx --conditions=@lowrank/source examples/src/run.ts ${name}`,
    });
    writeResultsSection(path.join(root, "RESULTS.md"), name, md);
    console.log(
      `${name}: done in ${(result.totalMs / 1000).toFixed(1)} s; RESULTS.md and ${path.relative(process.cwd(), out)}/ written`,
    );
  }
}

await main(process.argv.slice(2));
