import * as tf from "@tensorflow/tfjs-core";
import type { LayersModel, layers as tfl } from "@tensorflow/tfjs-layers";
import { CoreError } from "../errors.js";
import type { LoraLinear } from "../lora/LoraLinear.js";
import { type ModuleSite, type ModuleSource, torchLayout } from "./ModuleSource.js";

type AnyLayer = tfl.Layer;
// tfjs-layers keeps these fields private; LoRA reads them the way the layers' own call() does.
interface LayerVar {
  read(): tf.Variable;
  trainable: boolean;
  originalName: string;
  name: string;
}
interface Internals {
  kernel?: LayerVar;
  bias?: LayerVar | null;
  embeddings?: LayerVar;
  activation?: { apply(x: tf.Tensor): tf.Tensor };
  strides?: number[];
  padding?: "valid" | "same";
  dataFormat?: string;
  dilationRate?: number[];
  call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor | tf.Tensor[];
}

function one(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
  return Array.isArray(inputs) ? (inputs[0] as tf.Tensor) : inputs;
}

function allLayers(model: LayersModel): AnyLayer[] {
  const out: AnyLayer[] = [];
  const walk = (ls: AnyLayer[]) => {
    for (const l of ls) {
      const nested = (l as unknown as { layers?: AnyLayer[] }).layers;
      if (Array.isArray(nested)) walk(nested);
      else out.push(l);
    }
  };
  walk(model.layers);
  return out;
}

function loraCall(layer: AnyLayer, kind: ModuleSite["kind"], lora: LoraLinear): Internals["call"] {
  const L = layer as unknown as Internals;
  return (inputs, kwargs) =>
    tf.tidy(() => {
      const x = one(inputs);
      const training = kwargs?.training === true;
      if (kind === "embedding") return lora.forwardEmbedding(x);
      let y: tf.Tensor;
      if (kind === "linear") y = lora.forward(x, { training });
      else {
        const conv = (inp: tf.Tensor4D, k: tf.Tensor4D, strides: number[], pad: "valid" | "same", dil: number[]) =>
          tf.conv2d(inp, k, strides as [number, number], pad, "NHWC", dil as [number, number]);
        const strides = L.strides ?? [1, 1];
        const dil = L.dilationRate ?? [1, 1];
        const pad = L.padding ?? "valid";
        const x4 = x as tf.Tensor4D;
        y = conv(x4, lora.weight as tf.Tensor as tf.Tensor4D, strides, pad, dil);
        if (lora.bias) y = tf.add(y, lora.bias);
        const [kh, kw, cin] = lora.weight.shape as [number, number, number, number];
        for (const a of lora.liveAdapters()) {
          const h = training && a.dropout > 0 ? tf.dropout(x4, a.dropout, undefined, lora.nextSeed()) : x4;
          const down = conv(h as tf.Tensor4D, tf.reshape(a.A, [kh, kw, cin, a.r]), strides, pad, dil);
          const up = conv(down, tf.reshape(a.B, [1, 1, a.r, lora.outFeatures]), [1, 1], "valid", [1, 1]);
          y = tf.add(y, tf.mul(up, a.scaling));
        }
      }
      return L.activation ? L.activation.apply(y) : y;
    });
}

/** The getter or setter `prop` inherits from its class chain. */
function inherited(obj: object, prop: string): PropertyDescriptor | undefined {
  for (let p = Object.getPrototypeOf(obj); p; p = Object.getPrototypeOf(p)) {
    const d = Object.getOwnPropertyDescriptor(p, prop);
    if (d) return d;
  }
  return undefined;
}

/**
 * Lets `model.compile()` + `model.fit()` train the adapters: the model's `trainableWeights` (what it collects
 * at compile time) also lists the active adapters' A and B, wrapped the way tfjs-layers wraps its own
 * variables (`read()`). `weights` (getWeights, save, countParams) stays the base's own. The LoraModel freezes
 * the base weights, so fit trains only adapters (and what the config makes trainable).
 */
function exposeAdapterWeights(model: LayersModel, attached: ReadonlyMap<string, LoraLinear>): void {
  if (Object.hasOwn(model, "trainableWeights")) return;
  const trainableGet = inherited(model, "trainableWeights")?.get;
  const nonTrainableGet = inherited(model, "nonTrainableWeights")?.get;
  if (!trainableGet || !nonTrainableGet) return;
  const wrap = (v: tf.Variable) => ({
    read: () => v,
    write: (t: tf.Tensor) => {
      v.assign(t);
    },
    name: v.name,
    originalName: v.name,
    trainable: true,
    shape: v.shape,
    dtype: v.dtype,
    constraint: null,
  });
  Object.defineProperty(model, "trainableWeights", {
    configurable: true,
    get() {
      const base = trainableGet.call(model) as unknown[];
      if (!model.trainable) return base;
      return [...base, ...[...attached.values()].flatMap((l) => l.adapterVariables(l.activeAdapters).map(wrap))];
    },
  });
  Object.defineProperty(model, "weights", {
    configurable: true,
    get() {
      return (trainableGet.call(model) as unknown[]).concat(nonTrainableGet.call(model) as unknown[]);
    },
  });
}

function hideAdapterWeights(model: LayersModel): void {
  delete (model as unknown as { trainableWeights?: unknown }).trainableWeights;
  delete (model as unknown as { weights?: unknown }).weights;
}

const TORCH_NAMES: Record<string, string> = {
  kernel: "weight",
  embeddings: "weight",
  gamma: "weight",
  beta: "bias",
  moving_mean: "running_mean",
  moving_variance: "running_var",
};

/** Module sites of a tfjs-layers model: Dense, Conv2D (channelsLast) and Embedding layers, named by layer name. */
export function layersSource(model: LayersModel): ModuleSource {
  // A Sequential trains through an inner LayersModel that it rebuilds on every compile(), and each rebuild
  // resets every weight's trainable flag: after a rebuild, the flags set here are put back and the adapters
  // exposed on the new inner model too.
  const seq = model as unknown as { model?: LayersModel | null; build?: (...args: unknown[]) => unknown };
  const trainers = () => [model, ...(seq.model ? [seq.model] : [])];
  const flags = new Map<string, boolean>();
  const layers = allLayers(model);
  const attachedTo = new Map<string, LoraLinear>();
  const rebuilt = () => {
    for (const [name, flag] of flags) {
      const v = vars.get(name);
      if (v) v.trainable = flag;
    }
    if (attachedTo.size > 0) for (const m of trainers()) exposeAdapterWeights(m, attachedTo);
  };
  const ownBuild = Object.hasOwn(seq, "build");
  const watchBuilds = () => {
    if (model.getClassName() !== "Sequential" || Object.hasOwn(seq, "build") || !seq.build) return;
    const build = seq.build;
    seq.build = (...args: unknown[]) => {
      const out = build.apply(seq, args);
      rebuilt();
      return out;
    };
  };
  const unwatchBuilds = () => {
    if (!ownBuild) delete seq.build;
  };
  const outputLayers = new Set(model.outputs.map((t) => t.sourceLayer.name));
  const vars = new Map<string, LayerVar>();
  for (const l of layers)
    for (const w of l.weights as unknown as LayerVar[]) {
      const leaf = w.originalName.split("/").pop() ?? w.originalName;
      vars.set(`${l.name}.${leaf}`, w);
    }
  return {
    sites(): ModuleSite[] {
      const out: ModuleSite[] = [];
      for (const layer of layers) {
        const cls = layer.getClassName();
        const kind =
          cls === "Dense" ? "linear" : cls === "Conv2D" ? "conv2d" : cls === "Embedding" ? "embedding" : undefined;
        if (!kind) continue;
        const L = layer as unknown as Internals;
        if (kind === "conv2d" && L.dataFormat !== "channelsLast") continue;
        const kernel = kind === "embedding" ? L.embeddings : L.kernel;
        if (!kernel)
          throw new CoreError(
            "InvalidArgument",
            `layer ${layer.name}: expected a built layer with weights, found none (build or call the model first)`,
          );
        const own = Object.hasOwn(layer, "call") ? L.call : undefined;
        out.push({
          name: layer.name,
          kind,
          weight: kernel.read(),
          bias: L.bias ? L.bias.read() : null,
          isOutputHead: outputLayers.has(layer.name),
          attach: (lora) => {
            L.call = loraCall(layer, kind, lora);
            attachedTo.set(layer.name, lora);
            watchBuilds();
            for (const m of trainers()) exposeAdapterWeights(m, attachedTo);
          },
          detach: () => {
            if (own) L.call = own;
            else delete (L as Partial<Internals>).call;
            attachedTo.delete(layer.name);
            if (attachedTo.size === 0) {
              for (const m of trainers()) hideAdapterWeights(m);
              unwatchBuilds();
            }
          },
        });
      }
      return out;
    },
    namedVariables() {
      return new Map([...vars].map(([k, v]) => [k, v.read()]));
    },
    forward: (x, opts) => model.apply(x, { training: opts.training }) as tf.Tensor,
    setTrainable(name, trainable) {
      const v = vars.get(name);
      if (!v) return;
      v.trainable = trainable;
      flags.set(name, trainable);
    },
    trainableFlag(name) {
      return vars.get(name)?.trainable;
    },
    // tfjs-layers names -> torch names: kernel/embeddings/gamma -> weight, beta -> bias, moving stats -> running.
    toPeftParameter(key, value) {
      const dot = key.lastIndexOf(".");
      const module = key.slice(0, dot);
      const leaf = key.slice(dot + 1);
      const torch = TORCH_NAMES[leaf] ?? leaf;
      return {
        key: `${module}.${torch}`,
        value: leaf === "kernel" ? torchLayout(value, "toTorch") : tf.clone(value),
      };
    },
    fromPeftParameter(peftKey, value) {
      const dot = peftKey.lastIndexOf(".");
      const module = peftKey.slice(0, dot);
      const param = peftKey.slice(dot + 1);
      const leaf = [param, ...Object.keys(TORCH_NAMES).filter((k) => TORCH_NAMES[k] === param)].find((l) =>
        vars.has(`${module}.${l}`),
      );
      if (leaf === undefined) return null;
      return {
        key: `${module}.${leaf}`,
        value: leaf === "kernel" ? torchLayout(value, "fromTorch") : tf.clone(value),
      };
    },
  };
}
