import { type Dtype, decodeToFloat32, encodeFromFloat32, PEFT_PREFIX, parsePeftKey } from "@lowrank/formats";
import * as tf from "@tensorflow/tfjs-core";
import { type LoraConfig, loraScaling, parseLoraConfig } from "../config/LoraConfig.js";
import { peftParameterName, rankAndAlphaFor, savedModuleOf } from "../config/moduleMatch.js";
import { CoreError } from "../errors.js";
import type { LoraModel } from "../inject/LoraModel.js";
import type { LoraLinear } from "../lora/LoraLinear.js";

/** A tensor as `@lowrank/formats` parses it: raw little-endian bytes with a safetensors dtype. */
export interface PeftTensorLike {
  readonly dtype: Dtype;
  readonly shape: readonly number[];
  readonly data: Uint8Array;
}

/**
 * A PEFT adapter folder, parsed: `adapter_config.json` and the tensors of `adapter_model.safetensors`
 * (keys `base_model.model.<module>.lora_A.weight`, no adapter name, as PEFT writes them).
 */
export interface PeftAdapterLike {
  config: Record<string, unknown>;
  tensors: ReadonlyMap<string, PeftTensorLike> | Readonly<Record<string, PeftTensorLike>>;
}

const PREFIX = PEFT_PREFIX;

function entries(t: PeftAdapterLike["tensors"]): Array<[string, PeftTensorLike]> {
  return t instanceof Map ? [...t] : Object.entries(t as Record<string, PeftTensorLike>);
}

/** PEFT A/B (torch layouts) -> ours: A [in, r], B [r, out]. Conv A [r, cin, kh, kw] -> [kh·kw·cin, r]. */
function toOurs(which: "A" | "B", t: PeftTensorLike, layer: LoraLinear): tf.Tensor2D {
  const values = decodeToFloat32(t.dtype, t.data, { copy: true });
  return tf.tidy(() => {
    const x = tf.tensor(values, [...t.shape]);
    if (which === "A" && x.rank === 4)
      return tf.reshape(tf.transpose(x, [2, 3, 1, 0]), [layer.inFeatures, t.shape[0] as number]) as tf.Tensor2D;
    if (which === "B" && x.rank === 4)
      return tf.transpose(tf.reshape(x, [t.shape[0] as number, t.shape[1] as number])) as tf.Tensor2D;
    return tf.transpose(x) as tf.Tensor2D;
  });
}

/**
 * Loads a parsed PEFT adapter into `model` as adapter `name` (not activated): its LoRA factors, and the
 * `modules_to_save` copies (`base_model.model.<module>.<param>` for a module the config lists) as the
 * adapter's own copies of those modules. Returns the keys it used and those it ignored.
 */
export function adapterFromPeft(
  model: LoraModel,
  adapter: PeftAdapterLike,
  name = "default",
): { config: LoraConfig; loaded: string[]; ignored: string[] } {
  const config = parseLoraConfig(adapter.config);
  const byModule = new Map<string, { A?: PeftTensorLike; B?: PeftTensorLike }>();
  const saved: Array<[string, PeftTensorLike]> = [];
  const loaded: string[] = [];
  const ignored: string[] = [];
  for (const [key, t] of entries(adapter.tensors)) {
    const m = parsePeftKey(key);
    if (!m || m.part === "lora_B.bias") {
      const bare = peftParameterName(key);
      if (!m && savedModuleOf(bare, config.modules_to_save)) saved.push([bare, t]);
      else ignored.push(key);
      continue;
    }
    const module = m.module;
    const slot = byModule.get(module) ?? {};
    slot[m.part.endsWith("A") ? "A" : "B"] = t;
    byModule.set(module, slot);
    loaded.push(key);
  }
  const created: LoraLinear[] = [];
  try {
    for (const [module, { A, B }] of byModule) {
      if (!A || !B)
        throw new CoreError(
          "InvalidArgument",
          `PEFT adapter: expected lora_A and lora_B for module "${module}", found only ${A ? "lora_A" : "lora_B"}`,
        );
      const layer = model.layerFor(module);
      const a = toOurs("A", A, layer);
      const b = toOurs("B", B, layer);
      const r = a.shape[1];
      const { alpha } = rankAndAlphaFor(module, config);
      try {
        layer.addAdapter(name, {
          A: a,
          B: b,
          alpha,
          r,
          scaling: loraScaling(alpha, r, config.use_rslora),
          dropout: config.lora_dropout,
        });
      } finally {
        a.dispose();
        b.dispose();
      }
      created.push(layer);
    }
    if (byModule.size === 0)
      throw new CoreError("NoMatchingModules", "PEFT adapter: expected lora_A/lora_B tensors, found none");
    model.registerAdapter(name, config);
  } catch (e) {
    for (const l of created) l.deleteAdapter(name);
    throw e;
  }
  try {
    for (const [key, t] of saved) {
      const torch = tf.tensor(decodeToFloat32(t.dtype, t.data, { copy: true }), [...t.shape]);
      const ours = model.fromPeftParameter(key, torch, config.fan_in_fan_out);
      torch.dispose();
      if (!ours) {
        ignored.push(PREFIX + key);
        continue;
      }
      model.setSavedModule(name, ours.key, ours.value);
      loaded.push(PREFIX + key);
    }
  } catch (e) {
    model.deleteAdapter(name);
    throw e;
  }
  return { config, loaded, ignored };
}

/** The inverse of `adapterFromPeft`: PEFT config and F32 tensors with PEFT's keys and layouts. */
export function adapterToPeft(
  model: LoraModel,
  name = "default",
): { config: Record<string, unknown>; tensors: Map<string, PeftTensorLike> } {
  const config = model.configs.get(name);
  if (!config)
    throw new CoreError("UnknownAdapter", `expected one of [${model.adapterNames.join(", ")}], found "${name}"`);
  const tensors = new Map<string, PeftTensorLike>();
  const put = (key: string, t: tf.Tensor) => {
    tensors.set(key, { dtype: "F32", shape: t.shape, data: encodeFromFloat32("F32", t.dataSync()) });
    t.dispose();
  };
  for (const [module, layer] of model.layers) {
    if (!layer.hasAdapter(name)) continue;
    const a = layer.getAdapter(name);
    const emb = layer.embedding;
    const [ka, kb] = emb ? ["lora_embedding_A", "lora_embedding_B"] : ["lora_A.weight", "lora_B.weight"];
    if (layer.weight.rank === 4) {
      const [kh, kw, cin] = layer.weight.shape as number[];
      put(
        `${PREFIX}${module}.${ka}`,
        tf.tidy(() => tf.transpose(tf.reshape(a.A, [kh as number, kw as number, cin as number, a.r]), [3, 2, 0, 1])),
      );
      put(
        `${PREFIX}${module}.${kb}`,
        tf.tidy(() => tf.reshape(tf.transpose(a.B), [layer.outFeatures, a.r, 1, 1])),
      );
    } else {
      put(`${PREFIX}${module}.${ka}`, tf.transpose(a.A));
      put(`${PREFIX}${module}.${kb}`, tf.transpose(a.B));
    }
  }
  // modules_to_save: PEFT writes the adapter's full copy of each module as base_model.model.<module>.<param>.
  for (const [key, value] of model.savedModulesOf(name)) {
    const peft = model.toPeftParameter(key, value, config.fan_in_fan_out);
    value.dispose();
    put(`${PREFIX}${peft.key}`, peft.value);
  }
  return { config: { ...config }, tensors };
}

/**
 * A base weight from a checkpoint into tfjs layout [in, out]: torch `nn.Linear` stores [out, in]
 * (transposed here); with `fanInFanOut` (GPT-2's Conv1D) it is already [in, out].
 */
export function baseWeightToTfLayout(
  values: Float32Array,
  shape: readonly [number, number],
  fanInFanOut: boolean,
): tf.Tensor2D {
  if (fanInFanOut) return tf.tensor2d(values, [shape[0], shape[1]]);
  return tf.tidy(() => tf.transpose(tf.tensor2d(values, [shape[0], shape[1]])));
}
