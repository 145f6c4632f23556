// Hub-ready artifact folders (examples/artifacts/<task>/, layout in examples/artifacts/README.md): the
// base as F16 safetensors + config.json + card, adapters as PEFT folders + cards, hub.json; and the
// held-out figures measured on the written files, as the hub and the playground will load them.
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { HubInputWritten } from "@lowrank/api/hub-input";
import { peftModelCard, serializeModelCard } from "@lowrank/formats";
import { adapterLinear, baseModelFromBytes, peftAdapterFromBytes } from "@lowrank/runtime";
import * as tf from "@tensorflow/tfjs-core";
import { saveBase } from "./artifacts.js";
import type { Split } from "./experiment.js";
import { accuracy, type TaskModel } from "./TaskModel.js";

/** hub.json as the recipes write it; `base.input` is the hub's own schema (`@lowrank/api/hub-input`). */
export interface HubJson {
  base: { name: string; license: string; description: string; pipeline_tag: string; input: HubInputWritten };
  adapters: { name: string; description: string; tags: string[]; expected?: unknown[] }[];
}

/** Writes `base/` afresh: model.safetensors (F16, `<layer>.kernel` [in, out] / `<layer>.bias`) and config.json. */
export function writeDenseBase(dir: string, base: TaskModel, config: Record<string, unknown>): void {
  rmSync(dir, { recursive: true, force: true });
  saveBase(dir, base, config, "F16");
}

/** Held-out accuracy of the written base alone and with each written adapter, per test split. */
export function measureFromFiles(
  root: string,
  adapters: string[],
  tests: Record<string, Split>,
): { model: string; split: string; accuracy: number }[] {
  const read = (...p: string[]) => new Uint8Array(readFileSync(path.join(root, ...p)));
  const model = baseModelFromBytes(read("base", "config.json"), read("base", "model.safetensors"));
  const rows: { model: string; split: string; accuracy: number }[] = [];
  try {
    const runs: [string, typeof model.linear][] = [["base", model.linear]];
    const loaded = adapters.map((name) =>
      peftAdapterFromBytes(
        name,
        read("adapters", name, "adapter_config.json"),
        read("adapters", name, "adapter_model.safetensors"),
      ),
    );
    for (const [i, a] of loaded.entries()) runs.push([adapters[i] as string, adapterLinear(model, a, 1)]);
    for (const [name, linear] of runs)
      for (const [split, data] of Object.entries(tests))
        rows.push({ model: name, split, accuracy: accuracy((x) => model.forward(x, linear), data) });
    for (const a of loaded) for (const m of a.modules.values()) tf.dispose([m.a, m.b]);
  } finally {
    model.dispose();
  }
  return rows;
}

const pct = (v: number) => `${(v * 100).toFixed(1)}%`;

/** The table of figures, models as rows, test splits as columns. */
export function figuresTable(rows: { model: string; split: string; accuracy: number }[]): string {
  const splits = [...new Set(rows.map((r) => r.split))];
  const models = [...new Set(rows.map((r) => r.model))];
  const lines = [`| model | ${splits.join(" | ")} |`, `| --- | ${splits.map(() => "---:").join(" | ")} |`];
  for (const m of models)
    lines.push(
      `| ${m} | ${splits.map((s) => pct(rows.find((r) => r.model === m && r.split === s)?.accuracy ?? Number.NaN)).join(" | ")} |`,
    );
  return lines.join("\n");
}

/** Writes the base's card, each adapter's card (Hugging Face front matter) and hub.json. */
export function writeCards(
  root: string,
  hub: HubJson,
  text: { base: string; adapters: Record<string, string>; figures: string; command: string },
): void {
  const footer = `\n## Held-out accuracy (measured on these files)\n\n${text.figures}\n\nReproduce: \`${text.command}\`\n`;
  const baseCard = serializeModelCard({
    data: { license: hub.base.license, pipeline_tag: hub.base.pipeline_tag, tags: ["lowrank", "demo"] },
    body: `# ${hub.base.name}\n\n${text.base}\n${footer}`,
  });
  writeFileSync(path.join(root, "base", "README.md"), baseCard);
  for (const a of hub.adapters) {
    const card = peftModelCard(
      { baseModel: hub.base.name, license: hub.base.license, tags: [...a.tags, hub.base.pipeline_tag] },
      {
        data: { pipeline_tag: hub.base.pipeline_tag },
        body: `# ${a.name}\n\n${text.adapters[a.name] ?? a.description}\n${footer}`,
      },
    );
    writeFileSync(path.join(root, "adapters", a.name, "README.md"), serializeModelCard(card));
  }
  writeFileSync(path.join(root, "hub.json"), `${JSON.stringify(hub, null, 2)}\n`);
}
