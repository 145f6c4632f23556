import {
  type AdapterWeights,
  adapterLinear,
  type BackendRequest,
  type BaseModel,
  Bert,
  DenseClassifier,
  initBackend,
  loadBaseModel,
  peftAdapterFromBytes,
  readPeftFiles,
} from "@lowrank/runtime";
import * as tf from "@tensorflow/tfjs-core";
import { type Command, InvalidArgumentError } from "commander";
import { CliError, EXIT_USAGE } from "../errors.js";
import { type CliIO, printJson } from "../output.js";
import { THREADS_HELP, threadsArg } from "../threads.js";

/** `DIR` or `DIR:SCALE` (a trailing `:number` is the scale). */
export interface AdapterSpec {
  dir: string;
  scale: number;
}

export function parseAdapterSpec(value: string): AdapterSpec {
  const m = /^(.+):([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)$/.exec(value);
  if (m) return { dir: m[1] as string, scale: Number(m[2]) };
  if (value === "") throw new InvalidArgumentError("expected DIR or DIR:SCALE, found an empty string");
  return { dir: value, scale: 1 };
}

/** Comma-separated integers (`1,2,3`). */
export function parseIntList(value: string): number[] {
  const parts = value.split(",").map((s) => s.trim());
  if (parts.length === 0 || parts.some((p) => !/^-?\d+$/.test(p))) {
    throw new InvalidArgumentError(`expected comma-separated integers such as 1,2,3, found "${value}"`);
  }
  return parts.map(Number);
}

export function parseNumberArg(kind: "int" | "number", min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === "" || !Number.isFinite(n) || (kind === "int" && !Number.isInteger(n)) || n < min) {
      throw new InvalidArgumentError(
        `expected ${kind === "int" ? "an integer" : "a number"} >= ${min}, found "${value}"`,
      );
    }
    return n;
  };
}

/** Comma-separated numbers (`0.5,-1,2e-3`). */
export function parseFloatList(value: string): number[] {
  const parts = value.split(",").map((s) => s.trim());
  const nums = parts.map(Number);
  if (parts.some((p) => p === "") || nums.some((n) => !Number.isFinite(n))) {
    throw new InvalidArgumentError(
      `expected comma-separated numbers such as 0.5,-1,2, found "${value.length > 40 ? `${value.slice(0, 40)}...` : value}"`,
    );
  }
  return nums;
}

/** Loads the base folder (and the adapter) for forward/generate; rejects with one-line reasons. */
export async function loadBaseAndAdapter(
  baseDir: string,
  adapter?: AdapterSpec,
): Promise<{ model: BaseModel; lora?: AdapterWeights }> {
  const model = await loadBaseModel(baseDir);
  if (!adapter) return { model };
  try {
    const { config, weights } = await readPeftFiles(adapter.dir);
    const lora = peftAdapterFromBytes(adapter.dir, config, weights);
    adapterLinear(model, lora, adapter.scale); // checks modules and shapes against the base
    return { model, lora };
  } catch (error) {
    model.dispose();
    throw error;
  }
}

export function disposeLoaded({ model, lora }: { model: BaseModel; lora?: AdapterWeights }): void {
  model.dispose();
  if (lora) for (const m of lora.modules.values()) tf.dispose([m.a, m.b]);
}

export interface ForwardOutput {
  /** One row per input position: logits over the vocabulary, or the last hidden state for a model without a head; for a classifier one row of class scores. */
  logits: number[][];
  output: "logits" | "last_hidden_state" | "scores";
  shape: [number, number];
  architecture: string;
  base: string;
  adapter?: { dir: string; scale: number; digest?: string };
}

/** The `adapter` entry of a {@link ForwardOutput}: none without `--adapter`. */
function adapterField(spec: AdapterSpec | undefined, lora: AdapterWeights | undefined): Pick<ForwardOutput, "adapter"> {
  if (!spec) return {};
  return { adapter: { dir: spec.dir, scale: spec.scale, ...(lora?.digest ? { digest: lora.digest } : {}) } };
}

export interface ForwardOptions {
  base: string;
  adapter?: AdapterSpec;
  inputIds?: number[];
  /** Classifier input (floats). */
  input?: number[];
  tokenTypeIds?: number[];
  attentionMask?: number[];
  backend?: BackendRequest;
  threads?: number | true;
}

export async function forwardCommand(opts: ForwardOptions): Promise<ForwardOutput> {
  await initBackend({ backend: opts.backend ?? "auto", threads: opts.threads });
  const loaded = await loadBaseAndAdapter(opts.base, opts.adapter);
  try {
    const { model, lora } = loaded;
    if (model instanceof DenseClassifier) return await classify(model, lora, opts);
    const ids = opts.inputIds;
    if (!ids)
      throw new CliError(
        `--input-ids: expected token ids for ${model.architecture}, found ${opts.input ? "--input (classifier input)" : "none"}`,
        "Usage",
        EXIT_USAGE,
      );
    const vocab = model.hparams.vocabSize;
    const bad = ids.find((id) => id < 0 || id >= vocab);
    if (bad !== undefined) throw new CliError(`--input-ids: expected ids in [0, ${vocab}), found ${bad}`);
    const problem = model.checkInput([ids.length]);
    if (problem) throw new CliError(problem);
    for (const [flag, extra] of [
      ["--token-type-ids", opts.tokenTypeIds],
      ["--attention-mask", opts.attentionMask],
    ] as const) {
      if (extra && !(model instanceof Bert))
        throw new CliError(`${flag}: expected a BERT base, found ${model.architecture}`);
      if (extra && extra.length !== ids.length)
        throw new CliError(`${flag}: expected ${ids.length} values (one per input id), found ${extra.length}`);
    }
    const linear = adapterLinear(model, lora, opts.adapter?.scale ?? 1);
    const out = tf.tidy(() => {
      const input = tf.tensor2d([ids], [1, ids.length], "int32");
      if (model instanceof Bert) {
        const r = model.encode(
          {
            inputIds: input,
            ...(opts.tokenTypeIds ? { tokenTypeIds: tf.tensor2d([opts.tokenTypeIds], [1, ids.length], "int32") } : {}),
            ...(opts.attentionMask
              ? { attentionMask: tf.tensor2d([opts.attentionMask], [1, ids.length], "int32") }
              : {}),
          },
          linear,
        );
        return r.logits ?? r.hidden;
      }
      return model.forward(input, linear);
    });
    const width = out.shape[out.shape.length - 1] as number;
    const data = (await out.data()) as Float32Array;
    out.dispose();
    const rows: number[][] = [];
    for (let i = 0; i < ids.length; i++) rows.push(Array.from(data.subarray(i * width, (i + 1) * width)));
    return {
      logits: rows,
      output: model.hasLmHead ? "logits" : "last_hidden_state",
      shape: [ids.length, width],
      architecture: model.architecture,
      base: model.manifest().digest,
      ...adapterField(opts.adapter, lora),
    };
  } finally {
    disposeLoaded(loaded);
  }
}

async function classify(
  model: DenseClassifier,
  lora: AdapterWeights | undefined,
  opts: { base: string; adapter?: AdapterSpec; input?: number[]; inputIds?: number[] },
): Promise<ForwardOutput> {
  const x = opts.input;
  if (!x)
    throw new CliError(
      `--input: expected ${model.inFeatures} comma-separated numbers for a classifier, found ${opts.inputIds ? "--input-ids" : "none"}`,
      "Usage",
      EXIT_USAGE,
    );
  const problem = model.checkInput([x.length]);
  if (problem) throw new CliError(`--input: ${problem.replace(/^input: /, "")}`);
  const linear = adapterLinear(model, lora, opts.adapter?.scale ?? 1);
  const out = tf.tidy(() => model.forward(tf.tensor2d([x], [1, x.length]), linear));
  const scores = Array.from((await out.data()) as Float32Array);
  out.dispose();
  return {
    logits: [scores],
    output: "scores",
    shape: [1, scores.length],
    architecture: model.architecture,
    base: model.manifest().digest,
    ...adapterField(opts.adapter, lora),
  };
}

export function registerForward(program: Command, io: CliIO): void {
  program
    .command("forward")
    .description(
      "run a base model (optionally with a PEFT adapter) on token ids (one row of outputs per position) or a classifier on --input (class scores)",
    )
    .requiredOption("--base <dir>", "Hugging Face model folder (config.json + model.safetensors)")
    .option("--adapter <dir[:scale]>", "PEFT adapter folder, optionally with a scale (DIR:0.5)", parseAdapterSpec)
    .option("--input-ids <ids>", "comma-separated token ids, e.g. 1,2,3 (GPT-2, BERT)", parseIntList)
    .option("--input <values>", "classifier input: comma-separated numbers (prints the class scores)", parseFloatList)
    .option("--token-type-ids <ids>", "BERT only: segment ids, one per input id", parseIntList)
    .option("--attention-mask <mask>", "BERT only: 1 = attend, 0 = padding, one per input id", parseIntList)
    .option("--backend <name>", "tfjs backend: auto, wasm, cpu, tensorflow, webgpu", "auto")
    .option("--threads <n>", THREADS_HELP, threadsArg)
    .option("--json", 'print {"logits": [[...], ...], ...}')
    .action(async (opts: ForwardOptions & { backend: BackendRequest; json?: boolean }) => {
      const result = await forwardCommand(opts);
      if (opts.json) return printJson(io, result);
      for (const row of result.logits) io.stdout.write(`${row.map((v) => v.toPrecision(7)).join(" ")}\n`);
    });
}
