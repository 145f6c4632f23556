import type { LinearModule as HostModule, LinearHost } from "@lowrank/core";
import { DENSE_ARCHITECTURE, denseManifest, type SafetensorsFile, toFloat32 } from "@lowrank/formats";
import * as tf from "@tensorflow/tfjs-core";
import { RuntimeError } from "../backend/errors.js";
import type { LinearFn, LinearModule, ServableBase } from "../engine/types.js";
import { hfFilesFromBytes } from "./Checkpoint.js";
import { denseApply } from "./HfBase.js";
import type { BaseManifest } from "./manifest.js";
import { type Activation, activationByName } from "./ops.js";

export interface DenseLayerSpec {
  name: string;
  /** Activation after the layer (Hugging Face names: relu, tanh, gelu, ...; `linear` or null for none). */
  activation?: string | null;
}

/**
 * A stack of Dense layers saved as tfjs-layers weights (`<layer>.kernel` [in, out], `<layer>.bias`) in
 * `model.safetensors`, such as the demo classifiers of the recipes. The order and activations come from
 * `config.json`'s `layers` ([{name, activation}]) when present; otherwise the layers are chained by
 * shape (each kernel's input width is the previous one's output) with ReLU between them and none
 * after the last. Input float32 [batch, in]; output the class scores [batch, classes].
 */
export class DenseClassifier implements ServableBase {
  readonly kind = "other" as const;
  readonly inputDtype = "float32" as const;
  readonly linearModules = new Map<string, LinearModule>();
  readonly architecture = DENSE_ARCHITECTURE;
  private readonly hostModules = new Map<string, HostModule>();
  private readonly acts: Array<Activation | undefined> = [];
  private readonly names: string[] = [];
  private cached?: BaseManifest;
  private training = false;

  constructor(config: Readonly<Record<string, unknown>>, weights: SafetensorsFile) {
    const order = DenseClassifier.layerOrder(config, weights);
    try {
      order.forEach((spec, i) => {
        const k = weights.getTensor(`${spec.name}.kernel`);
        const [fin, fout] = k.shape as [number, number];
        // Inside tidy: the variable keeps the values, the tensor it was made from is released.
        const kernel = tf.tidy(() =>
          tf.variable(tf.tensor2d(toF32(weights, `${spec.name}.kernel`), [fin, fout]), false),
        );
        const bias = weights.has(`${spec.name}.bias`)
          ? tf.tidy(() => tf.variable(tf.tensor1d(toF32(weights, `${spec.name}.bias`)), false))
          : undefined;
        if (bias && bias.shape[0] !== fout)
          throw new RuntimeError(
            "ModelLoadFailed",
            `model.safetensors: expected '${spec.name}.bias' of shape [${fout}], found [${bias.shape}]`,
          );
        this.linearModules.set(spec.name, {
          weight: kernel as tf.Variable<tf.Rank.R2>,
          bias: bias as tf.Variable<tf.Rank.R1> | undefined,
          layout: "in_out",
          inFeatures: fin,
          outFeatures: fout,
        });
        this.hostModules.set(spec.name, { kind: "linear", weight: kernel, bias: bias ?? null });
        const actName = spec.activation ?? (i + 1 < order.length ? "relu" : "linear");
        const act = actName === "linear" || actName === null ? undefined : activationByName(actName);
        if (actName !== "linear" && actName !== null && !act)
          throw new RuntimeError(
            "ModelLoadFailed",
            `config.json: expected a supported activation for '${spec.name}', found '${actName}'`,
          );
        this.acts.push(act);
        this.names.push(spec.name);
      });
    } catch (error) {
      this.dispose();
      throw error;
    }
  }

  private static layerOrder(config: Readonly<Record<string, unknown>>, weights: SafetensorsFile): DenseLayerSpec[] {
    const kernels = weights
      .names()
      .filter((n) => n.endsWith(".kernel"))
      .map((n) => n.slice(0, -".kernel".length));
    if (Array.isArray(config.layers)) {
      return (config.layers as unknown[]).map((l) => {
        const spec = (typeof l === "string" ? { name: l } : l) as DenseLayerSpec;
        if (typeof spec?.name !== "string" || !weights.has(`${spec.name}.kernel`)) {
          throw new RuntimeError(
            "ModelLoadFailed",
            `config.json layers: expected names of '<name>.kernel' tensors (${kernels.join(", ")}), found ${JSON.stringify(l)}`,
          );
        }
        return spec;
      });
    }
    const shapes = new Map(kernels.map((n) => [n, weights.getTensor(`${n}.kernel`).shape]));
    if (kernels.length === 0 || [...shapes.values()].some((s) => s.length !== 2)) {
      throw new RuntimeError(
        "ModelLoadFailed",
        `model.safetensors: expected 2-D '<layer>.kernel' tensors of a Dense stack, found ${kernels.length ? "other shapes" : "none"}`,
      );
    }
    const outs = new Set([...shapes.values()].map((s) => s[1]));
    const firsts = kernels.filter((n) => !outs.has((shapes.get(n) as readonly number[])[0] as number));
    if (firsts.length !== 1)
      throw new RuntimeError(
        "ModelLoadFailed",
        `model.safetensors: expected one chain of Dense layers (or config.json 'layers'), found ${firsts.length} possible first layers`,
      );
    const chain = [firsts[0] as string];
    const left = new Set(kernels.filter((n) => n !== chain[0]));
    while (left.size) {
      const width = (shapes.get(chain[chain.length - 1] as string) as readonly number[])[1];
      const next = [...left].filter((n) => (shapes.get(n) as readonly number[])[0] === width);
      if (next.length !== 1)
        throw new RuntimeError(
          "ModelLoadFailed",
          `model.safetensors: expected one Dense layer taking width ${width}, found ${next.length} (list them in config.json 'layers')`,
        );
      chain.push(next[0] as string);
      left.delete(next[0] as string);
    }
    return chain.map((name) => ({ name }));
  }

  static fromBytes(config: string | Uint8Array | Record<string, unknown>, weights: Uint8Array): DenseClassifier {
    const files = hfFilesFromBytes(config, weights);
    return new DenseClassifier(files.config, files.weights);
  }

  get id(): string {
    return this.manifest().digest;
  }

  get inFeatures(): number {
    return (this.linearModules.get(this.names[0] as string) as LinearModule).inFeatures;
  }

  /** `@lowrank/formats`' `denseManifest` over the loaded layers: the manifest `manifestFromHeader` gives for the same files. */
  manifest(): BaseManifest {
    this.cached ??= denseManifest(
      { layers: this.names },
      new Map([...this.linearModules].map(([name, m]) => [name, [m.inFeatures, m.outFeatures]])),
    );
    return this.cached;
  }

  readonly linear: LinearFn = (name, x) => {
    const host = this.hostModules.get(name);
    if (host?.lora) return host.lora.forward(x, { training: this.training });
    const m = this.linearModules.get(name) as LinearModule;
    return denseApply(x, m.weight, m.bias, false);
  };

  checkInput(shape: readonly number[]): string | undefined {
    return shape.length === 1 && shape[0] === this.inFeatures
      ? undefined
      : `input: expected [${this.inFeatures}] floats, found shape [${shape}]`;
  }

  forward(x: tf.Tensor, linear: LinearFn = this.linear): tf.Tensor {
    return tf.tidy(() => {
      let h = x;
      this.names.forEach((name, i) => {
        h = linear(name, h);
        const act = this.acts[i];
        if (act) h = act(h);
      });
      return h;
    });
  }

  asLinearHost(): LinearHost {
    const last = this.names[this.names.length - 1] as string;
    return {
      linearModules: () => this.hostModules,
      outputModuleNames: () => [last],
      forward: (x, opts) => {
        const was = this.training;
        this.training = opts.training;
        try {
          return this.forward(x, this.linear);
        } finally {
          this.training = was;
        }
      },
    };
  }

  dispose(): void {
    for (const m of this.linearModules.values()) tf.dispose([m.weight, ...(m.bias ? [m.bias] : [])]);
    this.linearModules.clear();
    this.hostModules.clear();
  }
}

function toF32(weights: SafetensorsFile, name: string): Float32Array {
  const t = weights.getTensor(name);
  if (t.dtype !== "F32" && t.dtype !== "F16" && t.dtype !== "BF16")
    throw new RuntimeError(
      "ModelLoadFailed",
      `model.safetensors: expected '${name}' as F32, F16 or BF16, found ${t.dtype}`,
    );
  return toFloat32(t, { copy: true });
}
