// One base, one digest: the manifest (module names, layouts, shapes) and digest of every fixture base,
// built through every package's public entry point, must be identical. The hub, the CLI and the
// runtime's cache key adapters and bases by these digests.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { runCli } from "@lowrank/cli";
import { type BaseManifest, manifestFromConfig, parseSafetensors, serializeSafetensors } from "@lowrank/formats";
import { readBaseManifest } from "@lowrank/formats/node";
import { loadHfModel, manifestFromConfig as runtimeManifestFromConfig } from "@lowrank/runtime";
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
