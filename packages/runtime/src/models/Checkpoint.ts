import { parseSafetensors, type SafetensorsFile, toFloat32 } from "@lowrank/formats";
import * as tf from "@tensorflow/tfjs-core";
import { RuntimeError } from "../backend/errors.js";

/** A Hugging Face model as files: the parsed `config.json` and the weights of `model.safetensors`. */
export interface HfFiles {
  config: Record<string, unknown>;
  weights: SafetensorsFile;
}

/** Parses `config.json` text (or an object) and `model.safetensors` bytes; works in browsers too. */
export function hfFilesFromBytes(config: string | Uint8Array | Record<string, unknown>, weights: Uint8Array): HfFiles {
  let parsed: unknown = config;
  if (typeof config === "string" || config instanceof Uint8Array) {
    const text = typeof config === "string" ? config : new TextDecoder().decode(config);
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new RuntimeError(
        "ModelLoadFailed",
        `config.json: expected JSON, found a parse error (${(error as Error).message})`,
        { cause: error },
      );
    }
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new RuntimeError(
      "ModelLoadFailed",
      `config.json: expected a JSON object, found ${Array.isArray(parsed) ? "an array" : typeof parsed}`,
    );
  }
  return { config: parsed as Record<string, unknown>, weights: parseSafetensors(weights) };
}

/**
 * Reads tensors of a checkpoint by Hugging Face parameter name, decoded to float32 (F32, F16, BF16),
 * as frozen (non-trainable) variables. Names are tried as given, then with the base-model prefix
 * added or removed, as `from_pretrained` does when loading a headless checkpoint into a head model.
 */
export class Checkpoint {
  constructor(
    readonly file: SafetensorsFile,
    private readonly prefix: string,
  ) {}

  resolve(name: string): string | undefined {
    const { file, prefix } = this;
    if (file.has(name)) return name;
    if (prefix && name.startsWith(prefix) && file.has(name.slice(prefix.length))) return name.slice(prefix.length);
    if (prefix && !name.startsWith(prefix) && file.has(prefix + name)) return prefix + name;
    return undefined;
  }

  has(name: string): boolean {
    return this.resolve(name) !== undefined;
  }

  array(name: string, shape: readonly number[]): Float32Array {
    const key = this.resolve(name);
    if (!key)
      throw new RuntimeError(
        "ModelLoadFailed",
        `model.safetensors: expected a tensor '${name}', found none among ${this.file.tensors.size}`,
      );
    const t = this.file.getTensor(key);
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw new RuntimeError(
        "ModelLoadFailed",
        `model.safetensors: expected '${key}' of shape [${shape}], found [${t.shape}]`,
      );
    }
    if (t.dtype !== "F32" && t.dtype !== "F16" && t.dtype !== "BF16" && t.dtype !== "F64") {
      throw new RuntimeError(
        "ModelLoadFailed",
        `model.safetensors: expected '${key}' as F32, F16 or BF16, found ${t.dtype}`,
      );
    }
    return toFloat32(t, { copy: true });
  }

  /** A frozen variable with the tensor's values; `transpose` turns a torch [out, in] weight into [in, out]. */
  variable(name: string, shape: readonly number[], transpose = false): tf.Variable {
    const data = this.array(name, shape);
    return tf.tidy(() => {
      let t: tf.Tensor = tf.tensor(data, [...shape], "float32");
      if (transpose) t = tf.transpose(t);
      return tf.variable(t, false);
    });
  }
}
