import { stat } from "node:fs/promises";
import path from "node:path";
import {
  assertAdapterFitsBase,
  decodeToFloat32,
  type EncodableDtype,
  encodeFromFloat32,
  FormatError,
  ggufLoraToPeft,
  isFormatError,
  isKohyaLora,
  kohyaToPeft,
  manifestFromConfig,
  type PeftAdapter,
  parseGguf,
  parseSafetensors,
  peftModelCard,
  peftTensors,
  peftToGgufLora,
  peftToKohya,
  serializeSafetensors,
  type Tensor,
} from "@lowrank/formats";
import { pathExists, readPeftFolder, replaceFileAtomically, writePeftFolder } from "@lowrank/formats/node";
import type { Command } from "commander";
import { inCliTerms } from "../errors.js";
import { choiceOption, numberOption } from "../options.js";
import { type CliIO, printJson, processIO } from "../output.js";
import { detectInput, readBytes } from "./detectInput.js";

export type ConvertTarget = "peft" | "gguf" | "kohya" | "safetensors";
export type ConvertDtype = "f32" | "f16" | "bf16";

export interface ConvertOptions {
  to?: ConvertTarget;
  dtype?: ConvertDtype;
  /**
   * GGUF `general.architecture`: llama, qwen2, gpt2 or bert. Default: the base's `model_type` (with
   * `--base`), else the architecture whose llama.cpp names cover the adapter's modules.
   */
  arch?: string;
  /** Base model folder (or its config.json): head counts for GGUF, and a shape check of the adapter. */
  base?: string;
  heads?: number;
  kvHeads?: number;
  /** kohya key prefix when writing kohya (default lora_unet). */
  prefix?: string;
  force?: boolean;
}

export interface ConvertResult {
  format: ConvertTarget;
  outputs: string[];
  tensors: number;
  warnings: string[];
}

type Source =
  | { kind: "adapters"; adapters: Record<string, PeftAdapter> }
  | { kind: "tensors"; tensors: Record<string, Tensor>; metadata: Record<string, string> | null };

const DTYPE: Record<ConvertDtype, EncodableDtype> = { f32: "F32", f16: "F16", bf16: "BF16" };
const FLOATS = new Set(["F32", "F16", "BF16", "F64"]);

function cast(t: Tensor, dtype: EncodableDtype | undefined): Tensor {
  if (!dtype || t.dtype === dtype || !FLOATS.has(t.dtype)) return t;
  return { dtype, shape: t.shape, data: encodeFromFloat32(dtype, decodeToFloat32(t.dtype, t.data, { copy: true })) };
}

function castAdapter(a: PeftAdapter, dtype: EncodableDtype | undefined): PeftAdapter {
  if (!dtype) return a;
  const modules = Object.fromEntries(
    Object.entries(a.modules).map(([m, w]) => [
      m,
      { ...w, A: cast(w.A, dtype), B: cast(w.B, dtype), ...(w.bias ? { bias: cast(w.bias, dtype) } : {}) },
    ]),
  );
  return { ...a, modules };
}

async function baseConfig(base: string | undefined): Promise<Record<string, unknown> | undefined> {
  if (!base) return undefined;
  const file = (await stat(base).catch(() => null))?.isDirectory() ? path.join(base, "config.json") : base;
  try {
    return JSON.parse(new TextDecoder().decode(await readBytes(file)));
  } catch (cause) {
    if (isFormatError(cause)) throw cause;
    throw new FormatError("InvalidConfig", `${file}: expected a JSON config, found a syntax error`, { cause });
  }
}

/** The GGUF architecture of a base config: its `model_type` (Mistral converts as llama in llama.cpp). */
function archOf(config: Record<string, unknown> | undefined): string | undefined {
  const t = config?.model_type;
  if (typeof t !== "string") return undefined;
  return t === "mistral" ? "llama" : t;
}

function heads(
  opts: ConvertOptions,
  config: Record<string, unknown> | undefined,
): { headCount?: number; headCountKv?: number } {
  const h = opts.heads ?? (typeof config?.num_attention_heads === "number" ? config.num_attention_heads : undefined);
  const kv = opts.kvHeads ?? (typeof config?.num_key_value_heads === "number" ? config.num_key_value_heads : h);
  return { ...(h ? { headCount: h } : {}), ...(kv ? { headCountKv: kv } : {}) };
}

async function load(
  input: string,
  opts: ConvertOptions,
  config: Record<string, unknown> | undefined,
  warnings: string[],
): Promise<Source> {
  const kind = await detectInput(input);
  if (kind === "peft") {
    const r = await readPeftFolder(input);
    warnings.push(...r.warnings);
    return { kind: "adapters", adapters: { "": r.adapter } };
  }
  if (kind === "gguf") {
    const r = ggufLoraToPeft(parseGguf(await readBytes(input)), heads(opts, config));
    warnings.push(...r.warnings);
    return { kind: "adapters", adapters: { "": r.adapter } };
  }
  if (kind === "hf-model")
    throw new FormatError(
      "UnknownFormat",
      `${input}: expected an adapter (PEFT folder, GGUF LoRA, kohya or safetensors file), found a base model folder`,
    );
  const file = parseSafetensors(await readBytes(input));
  const tensors = Object.fromEntries(file.names().map((n) => [n, file.getTensor(n)]));
  if (isKohyaLora(Object.keys(tensors))) {
    const moduleNames = baseModuleNames(config);
    const r = kohyaToPeft(tensors, { metadata: file.metadata, ...(moduleNames ? { moduleNames } : {}) });
    warnings.push(...r.warnings);
    return { kind: "adapters", adapters: r.adapters };
  }
  return { kind: "tensors", tensors, metadata: file.metadata ? { ...file.metadata } : null };
}

/** Module names of `--base`, which turn kohya's flattened names back into exact ones. */
function baseModuleNames(config: Record<string, unknown> | undefined): string[] | undefined {
  if (!config) return undefined;
  try {
    return Object.keys(manifestFromConfig(config).modules);
  } catch {
    return undefined;
  }
}

/** Writes a file through a temporary sibling and a rename (formats' `replaceFileAtomically`), so OUT is never half-written. */
async function writeAtomic(out: string, bytes: Uint8Array, force: boolean | undefined): Promise<void> {
  if (!force && (await pathExists(out)))
    throw new FormatError("IoError", `write ${out}: expected no existing file there, found one (use --force)`);
  try {
    await replaceFileAtomically(out, bytes);
  } catch (cause) {
    throw new FormatError("IoError", `write ${out}: ${(cause as Error).message}`, { cause });
  }
}

export function defaultTarget(out: string): ConvertTarget {
  if (out.endsWith(".gguf")) return "gguf";
  if (out.endsWith(".safetensors")) return "safetensors";
  return "peft";
}

/**
 * Converts an adapter between PEFT folders, GGUF LoRA, kohya safetensors and plain safetensors.
 * Lossy steps (modules_to_save in GGUF/kohya, several alphas in GGUF...) come back as warnings.
 */
export async function convert(input: string, out: string, opts: ConvertOptions = {}): Promise<ConvertResult> {
  const to = opts.to ?? defaultTarget(out);
  const dtype = opts.dtype ? DTYPE[opts.dtype] : undefined;
  const warnings: string[] = [];
  if (!opts.force && (await pathExists(out)))
    throw new FormatError(
      "IoError",
      `write ${out}: expected no existing file or folder there, found one (use --force to replace it)`,
    );
  const config = await baseConfig(opts.base);
  const source = await load(input, opts, config, warnings);

  if (source.kind === "tensors") {
    if (to !== "safetensors") {
      throw new FormatError(
        "UnknownFormat",
        `${input}: expected PEFT or kohya LoRA keys to convert to ${to}, found plain tensors (only --to safetensors, e.g. with --dtype, applies)`,
      );
    }
    const tensors = Object.fromEntries(Object.entries(source.tensors).map(([n, t]) => [n, cast(t, dtype)]));
    await writeAtomic(out, serializeSafetensors(tensors, source.metadata), opts.force);
    return { format: to, outputs: [out], tensors: Object.keys(tensors).length, warnings };
  }

  // GGUF scales some B factors: it gets the adapter as read and the dtype, to round once.
  const components = Object.entries(source.adapters).map(
    ([c, a]) => [c, to === "gguf" ? a : castAdapter(a, dtype)] as const,
  );
  if (config) {
    try {
      const manifest = manifestFromConfig(config);
      for (const [, a] of components) warnings.push(...assertAdapterFitsBase(a, manifest).warnings);
    } catch (error) {
      if (!isFormatError(error) || error.code !== "InvalidConfig") throw error;
      warnings.push(`base config: ${error.message}; adapter not checked against it`);
    }
  }
  const outputs: string[] = [];
  let count = 0;
  if (to === "kohya") {
    const tensors: Record<string, Tensor> = {};
    let metadata: Record<string, string> = {};
    for (const [c, a] of components) {
      const k = peftToKohya(a, { prefix: c ? `lora_${c}` : (opts.prefix ?? "lora_unet") });
      warnings.push(...k.warnings);
      Object.assign(tensors, k.tensors);
      metadata = k.metadata;
    }
    await writeAtomic(out, serializeSafetensors(tensors, metadata), opts.force);
    return { format: to, outputs: [out], tensors: Object.keys(tensors).length, warnings };
  }
  for (const [c, a] of components) {
    const target =
      components.length > 1 ? (to === "peft" ? path.join(out, c) : out.replace(/(\.\w+)?$/, `.${c}$1`)) : out;
    if (to === "peft") {
      // A folder PEFT and the Hub recognise: add the model card PEFT writes when the source had none.
      const card = a.modelCard ?? peftModelCard({ baseModel: a.config.base_model_name_or_path });
      await writePeftFolder(target, { ...a, modelCard: card }, { overwrite: opts.force });
      count += Object.keys(peftTensors(a)).length;
    } else if (to === "gguf") {
      const arch = opts.arch ?? archOf(config);
      const g = peftToGgufLora(a, {
        ...(arch ? { architecture: arch } : {}),
        ...heads(opts, config),
        ...(dtype && dtype !== "F64" ? { dtype } : {}),
      });
      warnings.push(...g.warnings);
      await writeAtomic(target, g.bytes, opts.force);
      count += Object.keys(a.modules).length * 2;
    } else {
      const tensors = peftTensors(a);
      await writeAtomic(target, serializeSafetensors(tensors, a.metadata ?? { format: "pt" }), opts.force);
      count += Object.keys(tensors).length;
    }
    outputs.push(target);
  }
  return { format: to, outputs, tensors: count, warnings };
}

export function registerConvert(program: Command, io: CliIO = processIO): void {
  program
    .command("convert")
    .description("convert an adapter between PEFT folders, GGUF LoRA (llama.cpp), kohya and safetensors")
    .argument("<in>", "PEFT folder, GGUF LoRA, kohya or safetensors file")
    .argument("<out>", "output folder (peft) or file")
    .addOption(
      choiceOption(
        "--to <format>",
        "output format (default: gguf for *.gguf, safetensors for *.safetensors, else peft)",
        ["peft", "gguf", "kohya", "safetensors"] as const,
      ),
    )
    .addOption(choiceOption("--dtype <dtype>", "element type of the written tensors", ["f32", "f16", "bf16"] as const))
    .option(
      "--arch <name>",
      "GGUF general.architecture: llama, qwen2, gpt2 or bert (default: the --base model_type, else from the module names)",
    )
    .option("--base <path>", "base model folder or config.json: head counts for GGUF, and a shape check")
    .addOption(
      numberOption(
        "--heads <n>",
        "attention heads of the base (llama q permutation; read from GGUF files lowrank wrote)",
        {
          integer: true,
          min: 1,
        },
      ),
    )
    .addOption(
      numberOption(
        "--kv-heads <n>",
        "key/value heads of the base (llama k permutation; read from GGUF files lowrank wrote)",
        { integer: true, min: 1 },
      ),
    )
    .option("--prefix <prefix>", "kohya key prefix: lora_unet, lora_te, lora_te1, lora_te2", "lora_unet")
    .option("--force", "replace OUT if it exists")
    .option("--json", "print one JSON object instead of a line")
    .action(async (input: string, out: string, opts: ConvertOptions & { json?: boolean }) => {
      const result = await convert(input, out, opts);
      if (opts.json) return printJson(io, { ...result, warnings: result.warnings.map(inCliTerms) });
      for (const w of result.warnings) io.stderr.write(`warning: ${inCliTerms(w)}\n`);
      io.stdout.write(`wrote ${result.format} ${result.outputs.join(", ")} (${result.tensors} tensors)\n`);
    });
}
