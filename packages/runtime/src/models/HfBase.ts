import type { LinearModule as HostModule, LinearHost } from "@lowrank/core";
import { outputHeadModules } from "@lowrank/formats";
import * as tf from "@tensorflow/tfjs-core";
import type { LinearFn, LinearModule, ServableBase } from "../engine/types.js";
import { RuntimeError } from "../errors.js";
import { type BaseManifest, buildManifest, type ManifestModule, type ModuleLayout } from "./manifest.js";

/** One linear module as a model defines it; the weight is held [in, out] unless the module is tied to an embedding. */
export interface LinearSpec {
  name: string;
  layout: Exclude<ModuleLayout, "embedding">;
  inFeatures: number;
  outFeatures: number;
  weight: tf.Variable;
  bias?: tf.Variable;
  /** Name of the embedding this module's weight is (GPT-2's `lm_head` is `wte`): held [out, in], not offered to `injectLora`. */
  tiedTo?: string;
}

/**
 * Shared machinery of the Hugging Face architectures: frozen weights by parameter name, the linear
 * modules by module name for the engine (`ServableBase`) and for `@lowrank/core`'s `injectLora`
 * (`asLinearHost()`), and the base manifest. Subclasses supply the forward pass.
 */
export abstract class HfBase implements ServableBase {
  abstract readonly kind: ServableBase["kind"];
  readonly inputDtype = "int32" as const;
  readonly linearModules = new Map<string, LinearModule>();
  /** Modules as `@lowrank/core` sees them; `lora` is set there by `injectLora`. */
  private readonly hostModules = new Map<string, HostModule>();
  private readonly specs = new Map<string, LinearSpec>();
  private readonly embeddings = new Map<string, tf.Variable>();
  private cachedManifest?: BaseManifest;
  /** Whether core-injected LoRA layers run in training mode (dropout); set by `asLinearHost().forward`. */
  private training = false;

  protected constructor(
    readonly architecture: string,
    readonly modelType: string,
    readonly config: Readonly<Record<string, unknown>>,
    /** Every weight by Hugging Face parameter name (tied weights once). */
    readonly parameters: ReadonlyMap<string, tf.Variable>,
  ) {}

  get id(): string {
    return this.manifest().digest;
  }

  protected addLinear(spec: LinearSpec): void {
    this.linearModules.set(spec.name, {
      weight: spec.weight as tf.Variable<tf.Rank.R2>,
      bias: spec.bias as tf.Variable<tf.Rank.R1> | undefined,
      layout: spec.tiedTo ? "out_in" : "in_out",
      inFeatures: spec.inFeatures,
      outFeatures: spec.outFeatures,
    });
    if (!spec.tiedTo) this.hostModules.set(spec.name, { kind: "linear", weight: spec.weight, bias: spec.bias ?? null });
    this.specs.set(spec.name, spec);
  }

  protected addEmbedding(name: string, table: tf.Variable): void {
    this.embeddings.set(name, table);
  }

  /** The modules that LoRA can target, with checkpoint shapes and layouts, and their digest. */
  manifest(): BaseManifest {
    if (this.cachedManifest) return this.cachedManifest;
    const modules: Record<string, ManifestModule> = {};
    for (const [name, s] of this.specs) {
      const shape = s.layout === "conv1d" ? [s.inFeatures, s.outFeatures] : [s.outFeatures, s.inFeatures];
      modules[name] = {
        shape,
        layout: s.layout,
        inFeatures: s.inFeatures,
        outFeatures: s.outFeatures,
        ...(s.tiedTo ? { tiedTo: s.tiedTo } : {}),
      };
    }
    for (const [name, t] of this.embeddings) {
      const [rows, cols] = t.shape as [number, number];
      modules[name] = { shape: [rows, cols], layout: "embedding", inFeatures: rows, outFeatures: cols };
    }
    this.cachedManifest = buildManifest(this.architecture, this.modelType, modules);
    return this.cachedManifest;
  }

  /** `x·W + b` for a module, or its core-injected LoRA layer when one is attached. */
  readonly linear: LinearFn = (name, x) => {
    const host = this.hostModules.get(name);
    if (host?.lora) return host.lora.forward(x, { training: this.training });
    const m = this.linearModules.get(name);
    if (!m)
      throw new RuntimeError("InvalidArgument", `${this.architecture}: expected a linear module, found '${name}'`);
    return denseApply(x, m.weight, m.bias, m.layout === "out_in");
  };

  /** Batch-first forward; `linear` computes every linear module (default: the frozen base, or injected LoRA). */
  abstract forward(input: tf.Tensor, linear?: LinearFn): tf.Tensor;

  /** A view for `@lowrank/core`'s `injectLora`: linear modules by name (tied heads excluded), all weights, forward. */
  asLinearHost(): LinearHost {
    // @lowrank/formats' one output-head rule, the one its adapter check applies to "all-linear".
    const heads = outputHeadModules(this.manifest());
    return {
      linearModules: () => this.hostModules,
      outputModuleNames: () => heads,
      namedVariables: () => new Map(this.parameters),
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

  checkInput(shape: readonly number[]): string | undefined {
    const max = this.maxPositions();
    if (shape.length !== 1) return `input_ids: expected one sequence [seq], found shape [${shape}]`;
    if ((shape[0] as number) < 1 || (shape[0] as number) > max)
      return `input_ids: expected 1 to ${max} tokens, found ${shape[0]}`;
    return undefined;
  }

  protected abstract maxPositions(): number;

  dispose(): void {
    for (const v of this.parameters.values()) v.dispose();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}

/** `x [..., in]` times a 2-D weight ([in, out], or [out, in] with `transposeB`) plus bias. */
export function denseApply(
  x: tf.Tensor,
  weight: tf.Tensor2D,
  bias: tf.Tensor1D | undefined,
  transposeB: boolean,
): tf.Tensor {
  return tf.tidy(() => {
    const inF = x.shape[x.shape.length - 1] as number;
    const outF = weight.shape[transposeB ? 0 : 1];
    let y: tf.Tensor = tf.matMul(tf.reshape(x, [-1, inF]), weight, false, transposeB);
    if (bias) y = tf.add(y, bias);
    return tf.reshape(y, [...x.shape.slice(0, -1), outF]);
  });
}
