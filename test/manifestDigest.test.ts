// One base, one digest: the manifest (module names, layouts, shapes) and digest of every fixture base,
// built through every package's public entry point, must be identical. The hub, the CLI and the
// runtime's cache key adapters and bases by these digests.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { runCli } from "@lowrank/cli";
import {
  type BaseManifest,
  manifestFromConfig,
  manifestFromHeader,
  parseSafetensors,
  serializeSafetensors,
} from "@lowrank/formats";
import { readBaseManifest } from "@lowrank/formats/node";
import {
  DenseClassifier,
  loadBaseModel,
  loadHfModel,
  manifestFromConfig as runtimeManifestFromConfig,
} from "@lowrank/runtime";
import { fixturePath } from "@lowrank/vitest-config/fixtures";
import { afterAll, describe, expect, it } from "vitest";
import { captureIO } from "../packages/cli/src/testing.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const tmp = path.join(root, "test", ".tmp", "manifest-digest");
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

type Tensors = Record<string, { dtype: "F32"; shape: number[]; data: Uint8Array }>;

function readFolder(name: string): { config: Record<string, unknown>; tensors: Tensors } {
  const config = JSON.parse(readFileSync(fixturePath(name, "config.json"), "utf8")) as Record<string, unknown>;
  const file = parseSafetensors(new Uint8Array(readFileSync(fixturePath(name, "model.safetensors"))));
  const tensors: Tensors = {};
  for (const n of file.names()) {
    const t = file.getTensor(n);
    tensors[n] = { dtype: "F32", shape: [...t.shape], data: t.data };
  }
  return { config, tensors };
}

function writeFolder(name: string, config: Record<string, unknown>, tensors: Tensors): string {
  const dir = path.join(tmp, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, "config.json"), JSON.stringify(config, null, 2));
  writeFileSync(path.join(dir, "model.safetensors"), serializeSafetensors(tensors, { format: "pt" }));
  return dir;
}

const zeros = (shape: number[]) => ({
  dtype: "F32" as const,
  shape,
  data: new Uint8Array(shape.reduce((a, b) => a * b, 1) * 4),
});

/** Variants of the fixtures that exercise the class rules: no `architectures`, BertModel with its pooler, a BERT task head. */
function variants(): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const gpt2 = readFolder("hf-gpt2-tiny");
  const { architectures: _a, ...noArch } = gpt2.config;
  out.push(["GPT2Model without architectures", writeFolder("gpt2-no-arch", noArch, gpt2.tensors)]);

  const bert = readFolder("hf-bert-tiniest");
  const d = bert.config.hidden_size as number;
  const backbone: Tensors = {};
  for (const [n, t] of Object.entries(bert.tensors)) if (n.startsWith("bert.")) backbone[n.slice(5)] = t;
  // Hugging Face's BertModel checkpoints carry a pooler; the runtime does not build it.
  backbone["pooler.dense.weight"] = zeros([d, d]);
  backbone["pooler.dense.bias"] = zeros([d]);
  out.push([
    "BertModel with a pooler",
    writeFolder("bert-model", { ...bert.config, architectures: ["BertModel"] }, backbone),
  ]);

  const classifier: Tensors = {};
  for (const [n, t] of Object.entries(bert.tensors)) if (n.startsWith("bert.")) classifier[n] = t;
  classifier["bert.pooler.dense.weight"] = zeros([d, d]);
  classifier["bert.pooler.dense.bias"] = zeros([d]);
  classifier["classifier.weight"] = zeros([2, d]);
  classifier["classifier.bias"] = zeros([2]);
  const seqConfig = { ...bert.config, architectures: ["BertForSequenceClassification"] };
  out.push(["BertForSequenceClassification", writeFolder("bert-seq", seqConfig, classifier)]);
  return out;
}

async function cliInspect(dir: string): Promise<{ digest: string; architecture: string }> {
  const io = captureIO();
  expect(await runCli(["inspect", dir, "--json"], io)).toBe(0);
  const report = JSON.parse(io.out()) as { digest: string; metadata: { architecture: string } };
  return { digest: report.digest, architecture: report.metadata.architecture };
}

describe("base manifests and digests agree across packages", () => {
  mkdirSync(tmp, { recursive: true });
  const bases: Array<[string, string]> = [
    ["hf-gpt2-tiny", fixturePath("hf-gpt2-tiny")],
    ["hf-gpt2-lmhead-tiny", fixturePath("hf-gpt2-lmhead-tiny")],
    ["hf-bert-tiniest", fixturePath("hf-bert-tiniest")],
    ...variants(),
  ];

  it.each(bases)(
    "%s: formats (config, header), runtime (config, loaded model) and the CLI give one manifest",
    async (_name, dir) => {
      const config = JSON.parse(readFileSync(path.join(dir, "config.json"), "utf8")) as Record<string, unknown>;
      const fromConfig = manifestFromConfig(config);
      const results: Array<[string, BaseManifest]> = [
        ["formats manifestFromConfig", fromConfig],
        ["formats/node readBaseManifest", await readBaseManifest(dir)],
        ["runtime manifestFromConfig", runtimeManifestFromConfig(config)],
      ];
      const model = await loadHfModel(dir);
      try {
        results.push(["runtime loadHfModel().manifest()", model.manifest()]);
        expect(model.id).toBe(fromConfig.digest);
        // Every module the manifest lists is one the loaded model can take an adapter on (or a tied head / embedding).
        for (const [module, m] of Object.entries(fromConfig.modules)) {
          if (m.layout !== "embedding" && !m.tiedTo) expect(model.linearModules.has(module), module).toBe(true);
        }
      } finally {
        model.dispose();
      }
      for (const [where, m] of results) expect(m, where).toEqual(fromConfig);
      const cli = await cliInspect(dir);
      expect(cli).toEqual({ digest: fromConfig.digest, architecture: fromConfig.architecture });
      expect(Object.keys(fromConfig.modules).some((k) => k.includes("pooler"))).toBe(false);
    },
  );

  it("the class rule: architectures first, then the checkpoint's tensor names, else the bare backbone", async () => {
    const lm = readFolder("hf-gpt2-lmhead-tiny");
    const { architectures: _a, ...noArch } = lm.config;
    const dir = writeFolder("gpt2-lmhead-no-arch", noArch, lm.tensors);
    // Without `architectures` a config alone is Hugging Face's AutoModel class, GPT2Model...
    expect(manifestFromConfig(noArch).architecture).toBe("GPT2Model");
    expect(runtimeManifestFromConfig(noArch).digest).toBe(manifestFromConfig(noArch).digest);
    // ...while the checkpoint's `transformer.` names make it the LM head model, as the runtime builds it.
    const header = await readBaseManifest(dir);
    expect(header.architecture).toBe("GPT2LMHeadModel");
    const model = await loadHfModel(dir);
    try {
      expect(model.manifest()).toEqual(header);
    } finally {
      model.dispose();
    }
    expect((await cliInspect(dir)).digest).toBe(header.digest);
  });
});

describe("Dense-stack bases: formats from the header and runtime's loaded DenseClassifier give one manifest", () => {
  mkdirSync(tmp, { recursive: true });
  /** Seeded values, so a dropped or reordered layer changes what the loaded model computes. */
  const filled = (shape: number[], seed: number) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = Float32Array.from({ length: n }, (_, i) => Math.sin(seed * 97 + i) / 4);
    return { dtype: "F32" as const, shape, data: new Uint8Array(data.buffer) };
  };
  const stack: Tensors = {
    "fc1.kernel": filled([12, 8], 1),
    "fc1.bias": filled([8], 2),
    "fc2.kernel": filled([8, 6], 3),
    "fc2.bias": filled([6], 4),
    "head.kernel": filled([6, 3], 5),
    "head.bias": filled([3], 6),
  };
  const headerOf = (bytes: Uint8Array) => {
    const file = parseSafetensors(bytes);
    return new Map(file.names().map((n) => [n, { shape: file.getTensor(n).shape }]));
  };
  const cases: Array<[string, Record<string, unknown>]> = [
    ["chained by shape (no layers in config.json)", { task: "demo" }],
    [
      "model_type dense with layers listed",
      { model_type: "dense", layers: [{ name: "fc1" }, "fc2", { name: "head" }] },
    ],
  ];

  it.each(cases)("%s", async (name, config) => {
    const dir = writeFolder(`dense-${name.length}`, config, stack);
    const bytes = new Uint8Array(readFileSync(path.join(dir, "model.safetensors")));
    const fromHeader = manifestFromHeader(config, headerOf(bytes));
    expect(fromHeader.architecture).toBe("DenseClassifier");
    expect(fromHeader.modelType).toBe("dense");
    expect(Object.values(fromHeader.modules).map((m) => m.layout)).toEqual(["conv1d", "conv1d", "conv1d"]);
    expect(fromHeader.modules.fc2).toMatchObject({ shape: [8, 6], inFeatures: 8, outFeatures: 6 });
    expect(await readBaseManifest(dir), "formats/node readBaseManifest").toEqual(fromHeader);
    const model = await loadBaseModel(dir);
    try {
      expect(model).toBeInstanceOf(DenseClassifier);
      expect(model.manifest()).toEqual(fromHeader);
      expect(model.id).toBe(fromHeader.digest);
    } finally {
      model.dispose();
    }
    expect(await cliInspect(dir)).toEqual({ digest: fromHeader.digest, architecture: "DenseClassifier" });
  });

  it("a layer listed in config.json but missing from the checkpoint is refused with its name", () => {
    const header = headerOf(serializeSafetensors(stack, { format: "pt" }));
    expect(() => manifestFromHeader({ layers: ["fc1", "fc3"] }, header)).toThrow(/'fc3\.kernel'/);
    // A config that names GPT-2 is not read as a Dense stack even with kernel-named tensors.
    expect(() => manifestFromHeader({ model_type: "gpt2", n_embd: 8, n_layer: 1, n_head: 2 }, header)).toThrow();
  });
});
