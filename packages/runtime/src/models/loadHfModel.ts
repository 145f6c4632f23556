import { isDenseStack } from "@lowrank/formats";
import { RuntimeError } from "../backend/errors.js";
import { Bert } from "./Bert.js";
import { CharSeq2Seq } from "./CharSeq2Seq.js";
import { type HfFiles, hfFilesFromBytes } from "./Checkpoint.js";
import { DenseClassifier } from "./DenseClassifier.js";
import { Gpt2 } from "./Gpt2.js";

export type HfModel = Gpt2 | Bert;

/** Builds the architecture named by `config.json`'s `model_type` (gpt2, bert) from parsed files. */
export function hfModelFromFiles(files: HfFiles): HfModel {
  const type = files.config.model_type;
  switch (type) {
    case "gpt2":
      return new Gpt2(files);
    case "bert":
      return new Bert(files);
    default:
      throw new RuntimeError(
        "ModelLoadFailed",
        `config.json: expected model_type 'gpt2' or 'bert', found ${JSON.stringify(type ?? null)}`,
      );
  }
}

/** {@link baseModelFromFiles} from the bytes of `config.json` and `model.safetensors` (browsers too). */
export function baseModelFromBytes(
  config: string | Uint8Array | Record<string, unknown>,
  weights: Uint8Array,
): BaseModel {
  return baseModelFromFiles(hfFilesFromBytes(config, weights));
}

/** {@link hfModelFromFiles} from the bytes of `config.json` and `model.safetensors` (browsers too). */
export function hfModelFromBytes(config: string | Uint8Array | Record<string, unknown>, weights: Uint8Array): HfModel {
  return hfModelFromFiles(hfFilesFromBytes(config, weights));
}

/** Reads `config.json` and `model.safetensors` from a Hugging Face model folder (Node only). */
export async function readHfFiles(dir: string): Promise<HfFiles> {
  const { readFile } = await import("node:fs/promises");
  const path = await import("node:path");
  const read = async (name: string) => {
    try {
      return new Uint8Array(await readFile(path.join(dir, name)));
    } catch (error) {
      throw new RuntimeError(
        "NotFound",
        `model folder '${dir}': expected ${name}, found ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
        { cause: error },
      );
    }
  };
  const [config, weights] = await Promise.all([read("config.json"), read("model.safetensors")]);
  return hfFilesFromBytes(config, weights);
}

/** Loads a frozen GPT-2 or BERT from a Hugging Face folder (`config.json` + `model.safetensors`; F32, F16 or BF16). */
export async function loadHfModel(dir: string): Promise<HfModel> {
  return hfModelFromFiles(await readHfFiles(dir));
}

/** Any base this package loads from a folder: a Hugging Face GPT-2/BERT, a Dense classifier or a CharSeq2Seq. */
export type BaseModel = HfModel | DenseClassifier | CharSeq2Seq;

/**
 * GPT-2/BERT by `model_type`; without one (or with `dense`), a tfjs Dense stack (`<layer>.kernel`
 * tensors) as the recipes save it (`@lowrank/formats`' `isDenseStack`).
 */
export function baseModelFromFiles(files: HfFiles): BaseModel {
  if (isDenseStack(files.config, files.weights.names())) {
    return new DenseClassifier(files.config, files.weights);
  }
  if (files.config.model_type === "char_seq2seq") return new CharSeq2Seq(files.config, files.weights);
  return hfModelFromFiles(files);
}

/** Loads any supported base from a folder (`config.json` + `model.safetensors`; Node only). */
export async function loadBaseModel(dir: string): Promise<BaseModel> {
  return baseModelFromFiles(await readHfFiles(dir));
}
