import { loraScaling, parseLoraConfig, peftParameterName, rankAndAlphaFor, savedModuleOf } from "@lowrank/core";
import {
  decodeToFloat32,
  type EncodableDtype,
  encodeFromFloat32,
  PEFT_PREFIX,
  parsePeftKey,
  parseSafetensors,
  type TensorInput,
} from "@lowrank/formats";
import { RuntimeError } from "../backend/errors.js";
import { linearFitProblem } from "../engine/linearFit.js";
import { readPeftFiles } from "../engine/peftLoader.js";
import { Checkpoint, hfFilesFromBytes } from "./Checkpoint.js";

const PREFIX = PEFT_PREFIX;
const UNSUPPORTED = /\.lora_magnitude_vector\b/;

export interface MergeOptions {
  /** Multiplies the adapter's alpha/r (default 1). */
  scale?: number;
  /** Replace `out` if it exists (default: refuse). */
  overwrite?: boolean;
}

export interface MergeReport {
  out: string;
  /** Modules whose weights changed, by Hugging Face name. */
  modules: string[];
  /** Bias tensors taken from the adapter (`bias: "all"` / `"lora_only"`). */
  biases: string[];
  /** Other parameters taken whole from the adapter: its `modules_to_save` copies (PEFT's `merge_and_unload` keeps them). */
  saved: string[];
}

/**
 * PEFT's `merge_and_unload` on files: W' = W + scale·(alpha/r)·B·A (transposed for GPT-2's Conv1D,
 * whose weights are [in, out]) for every module of the adapter, computed in float64 and stored in
 * each weight's own dtype (F32, F16, BF16, F64). Other tensors are copied byte for byte, as are the
 * folder's other model files (config, generation config, tokenizer: see {@link isModelFile}); notes,
 * listings and model cards are not. Writes to a temporary folder beside `out`, then renames.
 */
export async function mergeHfFolder(
  baseDir: string,
  adapterDir: string,
  out: string,
  options: MergeOptions = {},
): Promise<MergeReport> {
  const fs = await import("node:fs/promises");
  const path = await import("node:path");
  const scale = options.scale ?? 1;
  if (!Number.isFinite(scale))
    throw new RuntimeError("InvalidArgument", `merge scale: expected a finite number, found ${scale}`);
  const read = async (name: string) => {
    try {
      return new Uint8Array(await fs.readFile(path.join(baseDir, name)));
    } catch (error) {
      throw new RuntimeError(
        "NotFound",
        `model folder '${baseDir}': expected ${name}, found ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
        { cause: error },
      );
    }
  };
  const { config, weights } = hfFilesFromBytes(await read("config.json"), await read("model.safetensors"));
  const modelType = config.model_type;
  // A Dense stack as the recipes save it (`<layer>.kernel` [in, out], no model_type), as loadBaseModel reads it.
  const dense = modelType === undefined && weights.names().some((n) => n.endsWith(".kernel"));
  if (!dense && modelType !== "gpt2" && modelType !== "bert") {
    throw new RuntimeError(
      "ModelLoadFailed",
      `config.json: expected model_type 'gpt2' or 'bert' (or a Dense stack of '<layer>.kernel' tensors), found ${JSON.stringify(modelType ?? null)}`,
    );
  }
  const conv1d = modelType === "gpt2" || dense;
  const ck = new Checkpoint(weights, modelType === "gpt2" ? "transformer." : "bert.");
  const resolve = (param: string): string | undefined => {
    if (!dense) return ck.resolve(param);
    const kernel = param.replace(/\.weight$/, ".kernel");
    return weights.has(kernel) ? kernel : weights.has(param) ? param : undefined;
  };

  const peft = await readPeftFiles(adapterDir);
  const loraConfig = parseLoraConfig(new TextDecoder().decode(peft.config));
  const adapter = parseSafetensors(peft.weights);
  const save = loraConfig.modules_to_save;
  const pairs = new Map<string, { A?: string; B?: string }>();
  const biases = new Map<string, string>(); // target parameter -> adapter key (biases and modules_to_save)
  for (const key of adapter.names()) {
    const m = parsePeftKey(key);
    if (UNSUPPORTED.test(key) || (m && m.part !== "lora_A" && m.part !== "lora_B"))
      throw new RuntimeError(
        "AdapterMismatch",
        `adapter '${adapterDir}': expected LoRA factors of linear modules, found '${key}' (embedding LoRA, lora_B biases and DoRA are not merged here)`,
      );
    if (m) {
      const entry = pairs.get(m.module) ?? {};
      entry[m.part === "lora_A" ? "A" : "B"] = key;
      pairs.set(m.module, entry);
      continue;
    }
    // Whole parameters the adapter carries: trained biases (bias "all"/"lora_only") and modules_to_save
    // copies, both written by PEFT as base_model.model.<module>.<param> in the checkpoint's own layout.
    const param = peftParameterName(key);
    if (key.startsWith(PREFIX) && (param.endsWith(".bias") || savedModuleOf(param, save))) {
      biases.set(param, key);
      continue;
    }
    throw new RuntimeError(
      "AdapterMismatch",
      `adapter '${adapterDir}': expected LoRA factors, biases or modules_to_save copies, found '${key}' (not merged, so the output would not be the adapter's)`,
    );
  }
  if (pairs.size === 0)
    throw new RuntimeError(
      "AdapterMismatch",
      `adapter '${adapterDir}': expected lora_A/lora_B tensors, found none among ${adapter.tensors.size}`,
    );

  const replaced = new Map<string, TensorInput>();
  for (const [module, { A, B }] of pairs) {
    if (!A || !B)
      throw new RuntimeError(
        "AdapterMismatch",
        `adapter layer '${module}': expected lora_A and lora_B, found only lora_${A ? "A" : "B"}`,
      );
    const key = resolve(`${module}.weight`);
    if (!key)
      throw new RuntimeError(
        "AdapterMismatch",
        `adapter layer '${module}': expected '${module}.weight' in the base's model.safetensors, found none (tied or missing weights cannot be merged)`,
      );
    const w = weights.getTensor(key);
    const a = adapter.getTensor(A);
    const b = adapter.getTensor(B);
    if (w.shape.length !== 2)
      throw new RuntimeError(
        "AdapterMismatch",
        `adapter layer '${module}': expected a 2-D base weight '${key}', found [${w.shape}]`,
      );
    // The base weight as a linear module ([out, in], or GPT-2's Conv1D [in, out]) and the one fit check.
    const [rows, cols] = w.shape as [number, number];
    const target = conv1d
      ? { layout: "in_out" as const, inFeatures: rows, outFeatures: cols }
      : { layout: "out_in" as const, inFeatures: cols, outFeatures: rows };
    const problem = linearFitProblem(module, target, a.shape, b.shape);
    if (problem) throw new RuntimeError("AdapterMismatch", `adapter '${adapterDir}': ${problem}`);
    const [r, fin] = a.shape as [number, number];
    const fout = target.outFeatures;
    const { r: rank, alpha } = rankAndAlphaFor(module, loraConfig);
    if (rank !== r)
      throw new RuntimeError(
        "AdapterMismatch",
        `adapter layer '${module}': expected rank ${rank} from adapter_config.json, found lora_A [${a.shape}]`,
      );
    const s = scale * loraScaling(alpha, rank, loraConfig.use_rslora);
    const av = decodeToFloat32(a.dtype, a.data);
    const bv = decodeToFloat32(b.dtype, b.data);
    const wv = decodeToFloat32(w.dtype, w.data, { copy: true });
    const merged = new Float64Array(wv.length);
    for (let o = 0; o < fout; o++) {
      for (let i = 0; i < fin; i++) {
        let d = 0;
        for (let k = 0; k < r; k++) d += (bv[o * r + k] as number) * (av[k * fin + i] as number);
        const idx = conv1d ? i * fout + o : o * fin + i;
        merged[idx] = (wv[idx] as number) + s * d;
      }
    }
    replaced.set(key, { dtype: w.dtype, shape: w.shape, data: encodeFromFloat32(encodable(w.dtype, key), merged) });
  }
  for (const [target, source] of biases) {
    const key = resolve(target);
    const t = adapter.getTensor(source);
    if (!key)
      throw new RuntimeError(
        "AdapterMismatch",
        `adapter parameter '${source}': expected '${target}' in the base, found none`,
      );
    const w = weights.getTensor(key);
    if (t.shape.length !== w.shape.length || t.shape.some((d, i) => d !== w.shape[i])) {
      throw new RuntimeError(
        "AdapterMismatch",
        `adapter parameter '${source}': expected shape [${w.shape}], found [${t.shape}]`,
      );
    }
    replaced.set(key, {
      dtype: w.dtype,
      shape: w.shape,
      data: encodeFromFloat32(encodable(w.dtype, key), decodeToFloat32(t.dtype, t.data)),
    });
  }

  const tensors = new Map<string, TensorInput>();
  for (const name of weights.names()) tensors.set(name, replaced.get(name) ?? weights.getTensor(name));
  await writeFolderAtomically(out, options.overwrite ?? false, async (tmp) => {
    const { writeSafetensorsFile } = await import("@lowrank/formats/node");
    await writeSafetensorsFile(path.join(tmp, "model.safetensors"), tensors, weights.metadata);
    for (const entry of await fs.readdir(baseDir, { withFileTypes: true })) {
      if (entry.isFile() && isModelFile(entry.name) && entry.name !== "model.safetensors")
        await fs.copyFile(path.join(baseDir, entry.name), path.join(tmp, entry.name));
    }
  });
  const taken = [...biases.keys()];
  return {
    out,
    modules: [...pairs.keys()],
    biases: taken.filter((k) => !savedModuleOf(k, save)),
    saved: taken.filter((k) => savedModuleOf(k, save)),
  };
}

/**
 * Files of a Hugging Face model folder that belong to the model: its JSON configs and tokenizer files.
 * A model card, notes and listings describe the base, not the merged model, so they are not copied.
 */
export function isModelFile(name: string): boolean {
  return (
    /\.json$/.test(name) ||
    /^LICEN[CS]E/i.test(name) || // a derivative keeps the base's license with it
    ["merges.txt", "vocab.txt", "spiece.model", "tokenizer.model"].includes(name)
  );
}

function encodable(dtype: string, key: string): EncodableDtype {
  if (dtype === "F32" || dtype === "F16" || dtype === "BF16" || dtype === "F64") return dtype;
  throw new RuntimeError("ModelLoadFailed", `model.safetensors: expected '${key}' as a float tensor, found ${dtype}`);
}

/**
 * Fills a fresh temporary folder beside `out`, then renames it to `out` (formats'
 * `replaceFolderAtomically`); an existing `out` is refused unless `overwrite` is set.
 */
export async function writeFolderAtomically(
  out: string,
  overwrite: boolean,
  fill: (tmp: string) => Promise<void>,
): Promise<void> {
  const { pathExists, replaceFolderAtomically } = await import("@lowrank/formats/node");
  if (!overwrite && (await pathExists(out)))
    throw new RuntimeError(
      "InvalidArgument",
      `output '${out}': expected a path that does not exist yet, found one (pass overwrite to replace it)`,
    );
  await replaceFolderAtomically(out, fill);
}
