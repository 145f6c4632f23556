import {
  type AdapterWeights,
  adapterLinear,
  type BaseModel,
  Bert,
  CharSeq2Seq,
  DenseClassifier,
  loadBaseModel,
  peftAdapterFromBytes,
  readPeftFiles,
} from "@lowrank/runtime";
import * as tf from "@tensorflow/tfjs-core";
import type { Command } from "commander";
import { startBackend, threadsOption } from "../backend.js";
import { CliError, EXIT_USAGE } from "../errors.js";
import { type BackendName, backendOption, invalidOption, numberList, numberOption, parseNumber } from "../options.js";
import { type CliIO, processIO, writeLines } from "../output.js";

/** `DIR` or `DIR:SCALE` (a trailing `:number` is the scale). */
export interface AdapterSpec {
  dir: string;
  scale: number;
}

export function parseAdapterSpec(value: string): AdapterSpec {
  const m = /^(.+):([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)$/.exec(value);
  if (m) return { dir: m[1] as string, scale: parseNumber("--adapter", m[2] as string) };
  if (value === "") throw invalidOption("--adapter", "DIR or DIR:SCALE", value);
  return { dir: value, scale: 1 };
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
  /**
   * One row per reported position (views of one buffer): logits over the vocabulary, or the last hidden
   * state for a model without a head; for a classifier one row of class scores. Empty with `topK`.
   */
  logits: Float32Array[];
  /** With `topK`: per reported position the K highest values, highest first. */
  top?: Array<Array<{ id: number; score: number }>>;
  /** Input positions the rows belong to (all of them, or the last with `last`). */
  positions: number[];
  output: "logits" | "last_hidden_state" | "scores";
  /** Shape of the full output: [positions, width]. */
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
  /** Report only the last position. */
  last?: boolean;
  /** Report only the K highest values of each row (with their ids). */
  topK?: number;
  backend?: BackendName;
  threads?: number | true;
}

/** Rows of `out` ([..., positions, width]) as reported: every position or the last, full or top-K. */
async function report(
  out: tf.Tensor,
  opts: ForwardOptions,
  io: CliIO,
): Promise<Pick<ForwardOutput, "logits" | "top" | "positions" | "shape">> {
  const width = out.shape[out.shape.length - 1] as number;
  const n = out.size / width;
  const positions = opts.last ? [n - 1] : Array.from({ length: n }, (_, i) => i);
  const rows = tf.tidy(() => {
    const all = tf.reshape(out, [n, width]);
    return opts.last ? tf.slice(all, [n - 1, 0], [1, width]) : all;
  });
  try {
    if (opts.topK !== undefined) {
      const k = Math.min(opts.topK, width);
      if (k < opts.topK)
        io.stderr.write(`lowrank: --top-k ${opts.topK}: rows have ${width} values, showing ${k}
`);
      const { values, indices } = tf.topk(rows, k);
      const [v, i] = [(await values.data()) as Float32Array, (await indices.data()) as Int32Array];
      tf.dispose([values, indices]);
      const top = positions.map((_, r) =>
        Array.from({ length: k }, (_, j) => ({ id: i[r * k + j] as number, score: v[r * k + j] as number })),
      );
      return { logits: [], top, positions, shape: [n, width] };
    }
    const data = (await rows.data()) as Float32Array;
    const logits = positions.map((_, r) => data.subarray(r * width, (r + 1) * width));
    return { logits, positions, shape: [n, width] };
  } finally {
    rows.dispose();
  }
}

export async function forwardCommand(opts: ForwardOptions, io: CliIO = processIO): Promise<ForwardOutput> {
  await startBackend(io, opts.backend, opts.threads);
  const loaded = await loadBaseAndAdapter(opts.base, opts.adapter);
  try {
    const { model, lora } = loaded;
    if (model instanceof DenseClassifier) return await classify(model, lora, opts, io);
    const ids = opts.inputIds;
    if (!ids)
      throw new CliError(
        `--input-ids: expected token ids for ${model.architecture}, found ${opts.input ? "--input (classifier input)" : "none"}`,
        "Usage",
        EXIT_USAGE,
      );
    const vocab = model instanceof CharSeq2Seq ? model.vocabSize : model.hparams.vocabSize;
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
    let rows: Awaited<ReturnType<typeof report>>;
    try {
      rows = await report(out, opts, io);
    } finally {
      out.dispose();
    }
    return {
      ...rows,
      output: model instanceof CharSeq2Seq || model.hasLmHead ? "logits" : "last_hidden_state",
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
  opts: ForwardOptions,
  io: CliIO,
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
  let rows: Awaited<ReturnType<typeof report>>;
  try {
    rows = await report(out, opts, io);
  } finally {
    out.dispose();
  }
  return {
    ...rows,
    output: "scores",
    architecture: model.architecture,
    base: model.manifest().digest,
    ...adapterField(opts.adapter, lora),
  };
}

/**
 * The JSON of a {@link ForwardOutput}, one piece per row, so an output of any size streams out
 * (one string of every vocabulary score for a thousand positions is past what V8 can hold).
 */
export function* forwardJson(result: ForwardOutput): Generator<string> {
  const { logits, top, ...head } = result;
  const fields = JSON.stringify(head);
  if (top) {
    yield `${fields.slice(0, -1)},"top":[`;
    for (let r = 0; r < top.length; r++) yield `${r ? "," : ""}${JSON.stringify(top[r])}`;
  } else {
    yield `${fields.slice(0, -1)},"logits":[`;
    for (let r = 0; r < logits.length; r++)
      yield `${r ? "," : ""}${JSON.stringify(Array.from(logits[r] as Float32Array))}`;
  }
  yield "]}\n";
}

/** Plain text: one line per reported row (`id:score` pairs with top-K). */
export function* forwardText(result: ForwardOutput): Generator<string> {
  if (result.top) {
    for (let r = 0; r < result.top.length; r++)
      yield `${result.positions[r]}\t${(result.top[r] ?? []).map((t) => `${t.id}:${t.score.toPrecision(7)}`).join(" ")}\n`;
    return;
  }
  for (const row of result.logits) yield `${Array.from(row, (v) => v.toPrecision(7)).join(" ")}\n`;
}

export function registerForward(program: Command, io: CliIO): void {
  program
    .command("forward")
    .description(
      "run a base model (optionally with a PEFT adapter) on token ids (one row of outputs per position) or a classifier on --input (class scores)",
    )
    .requiredOption("--base <dir>", "Hugging Face model folder (config.json + model.safetensors)")
    .option("--adapter <dir[:scale]>", "PEFT adapter folder, optionally with a scale (DIR:0.5)", parseAdapterSpec)
    .option(
      "--input-ids <ids>",
      "comma-separated token ids, e.g. 1,2,3 (GPT-2, BERT)",
      numberList("--input-ids", { integer: true }),
    )
    .option(
      "--input <values>",
      "classifier input: comma-separated numbers (prints the class scores)",
      numberList("--input"),
    )
    .option(
      "--token-type-ids <ids>",
      "BERT only: segment ids, one per input id",
      numberList("--token-type-ids", { integer: true }),
    )
    .option(
      "--attention-mask <mask>",
      "BERT only: 1 = attend, 0 = padding, one per input id",
      numberList("--attention-mask", { integer: true }),
    )
    .option("--last", "only the last position (the next-token scores of a language model)")
    .addOption(
      numberOption("--top-k <k>", "only the K highest values of each row, with their ids", { integer: true, min: 1 }),
    )
    .addOption(backendOption())
    .addOption(threadsOption())
    .option("--json", 'print {"logits": [[...], ...], ...} (or "top": [[{id, score}, ...], ...] with --top-k)')
    .action(async (opts: ForwardOptions & { json?: boolean }) => {
      const result = await forwardCommand(opts, io);
      await writeLines(io.stdout, opts.json ? forwardJson(result) : forwardText(result));
    });
}
