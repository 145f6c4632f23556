import * as tf from "@tensorflow/tfjs-core";
import { type InitLoraWeights, loraScaling } from "../config/LoraConfig.js";
import { CoreError } from "../errors.js";
import { bgmvAdapters, loraLinear } from "../kernels/ops.js";
import { registerLoraKernels } from "../kernels/registerLoraKernels.js";
import { Rng } from "../random.js";
import { gatherRows } from "./gatherRows.js";
import { initAdapter } from "./initAdapter.js";

/** Adapter name meaning "no adapter" in a mixed batch (as in PEFT). */
export const BASE_ADAPTER = "__base__";

/** One adapter in a layer. Layout: A [in, r], B [r, out] (PEFT's lora_A.weight is Aᵀ, lora_B.weight is Bᵀ). */
export interface LoraAdapterWeights {
  readonly A: tf.Variable;
  readonly B: tf.Variable;
  readonly r: number;
  readonly alpha: number;
  readonly scaling: number;
  readonly dropout: number;
}

/** A new adapter from hyper-parameters (weights initialized as `init` says) ... */
export interface AdapterInit {
  r: number;
  alpha: number;
  dropout?: number;
  useRslora?: boolean;
  init?: InitLoraWeights;
  seed?: number;
}
/** ... or from given weights (copied): A [in, r], B [r, out]. `scaling` overrides alpha/r. */
export interface AdapterTensors {
  A: tf.Tensor;
  B: tf.Tensor;
  alpha: number;
  r?: number;
  useRslora?: boolean;
  dropout?: number;
  scaling?: number;
}

export interface LoraLinearOptions {
  /**
   * Base weight [in, out] (tfjs Dense layout). A `tf.Variable` is used in place (merge writes into it) and
   * not disposed by this layer; a plain tensor is copied (the caller still owns it).
   */
  weight: tf.Tensor | tf.Variable;
  bias?: tf.Tensor | tf.Variable | null;
  /** The module name (for messages). */
  name?: string;
  /** Embedding tables keep PEFT's embedding init (A zero, B normal). */
  embedding?: boolean;
  seed?: number;
}

/**
 * A frozen base weight W [in, out] with any number of named LoRA adapters:
 * `y = x·W + b + Σ_active scale · dropout(x)·A·B`.
 * The active set changes only through `setActiveAdapters`; `merge` folds adapters into W onto a LIFO stack.
 */
export class LoraLinear {
  readonly name: string;
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly weight: tf.Variable;
  readonly bias: tf.Variable | null;
  readonly embedding: boolean;
  private readonly ownsWeight: boolean;
  private readonly ownsBias: boolean;
  private readonly adapters = new Map<string, LoraAdapterWeights>();
  private active: string[] = [];
  private enabled = true;
  private readonly mergeStack: string[][] = [];
  private rng: Rng;
  private disposed = false;

  constructor(opts: LoraLinearOptions) {
    const w = opts.weight;
    if (w.rank < 2)
      throw new CoreError(
        "ShapeMismatch",
        `LoraLinear: expected a weight [in, out] (or [..., out], read as [prod(...), out]), found shape [${w.shape.join(", ")}]`,
      );
    this.name = opts.name ?? "lora";
    this.outFeatures = w.shape[w.rank - 1] as number;
    this.inFeatures = w.size / this.outFeatures;
    this.ownsWeight = !(w instanceof tf.Variable);
    this.weight = w instanceof tf.Variable ? w : toVariable(w, false);
    const b = opts.bias ?? null;
    if (b !== null && (b.rank !== 1 || b.shape[0] !== this.outFeatures))
      throw new CoreError(
        "ShapeMismatch",
        `LoraLinear ${this.name}: expected bias [${this.outFeatures}], found [${b.shape.join(", ")}]`,
      );
    this.ownsBias = b !== null && !(b instanceof tf.Variable);
    this.bias = b === null ? null : b instanceof tf.Variable ? b : toVariable(b, false);
    this.embedding = opts.embedding ?? false;
    this.rng = new Rng(opts.seed ?? 0);
    registerLoraKernels(); // idempotent: forward and forwardMixed run core's LoRA ops
  }

  /** Reseeds dropout masks (training reproducibility). */
  reseed(seed: number): void {
    this.rng = new Rng(seed);
  }

  /** A fresh seed from this layer's generator (for dropout masks computed outside `forward`). */
  nextSeed(): number {
    return this.rng.int();
  }

  get adapterNames(): string[] {
    return [...this.adapters.keys()];
  }
  get activeAdapters(): string[] {
    return [...this.active];
  }
  get mergedAdapters(): string[] {
    return this.mergeStack.flat();
  }
  get adaptersEnabled(): boolean {
    return this.enabled;
  }
  getAdapter(name: string): LoraAdapterWeights {
    const a = this.adapters.get(name);
    if (!a)
      throw new CoreError(
        "UnknownAdapter",
        `${this.name}: expected one of [${this.adapterNames.join(", ")}], found adapter "${name}"`,
      );
    return a;
  }
  hasAdapter(name: string): boolean {
    return this.adapters.has(name);
  }

  /** Adds an adapter (not activated: call `setActiveAdapters`). */
  addAdapter(name: string, spec: AdapterInit | AdapterTensors): LoraAdapterWeights {
    this.assertLive();
    if (name === BASE_ADAPTER)
      throw new CoreError("InvalidArgument", `${this.name}: "${BASE_ADAPTER}" is reserved for "no adapter"`);
    if (this.adapters.has(name))
      throw new CoreError("DuplicateAdapter", `${this.name}: adapter "${name}" already exists`);
    const n = this.inFeatures;
    const m = this.outFeatures;
    let entry: LoraAdapterWeights;
    if ("A" in spec) {
      const r = spec.A.shape[1] as number;
      if (
        spec.A.rank !== 2 ||
        spec.A.shape[0] !== n ||
        spec.B.rank !== 2 ||
        spec.B.shape[0] !== r ||
        spec.B.shape[1] !== m
      )
        throw new CoreError(
          "ShapeMismatch",
          `${this.name}: expected A [${n}, r] and B [r, ${m}], found A [${spec.A.shape.join(", ")}] and B [${spec.B.shape.join(", ")}]`,
        );
      if (spec.r !== undefined && spec.r !== r)
        throw new CoreError(
          "RankMismatch",
          `${this.name}: expected r = ${spec.r} from the config, found A with ${r} columns`,
        );
      entry = {
        A: toVariable(spec.A, true),
        B: toVariable(spec.B, true),
        r,
        alpha: spec.alpha,
        scaling: spec.scaling ?? loraScaling(spec.alpha, r, spec.useRslora),
        dropout: spec.dropout ?? 0,
      };
    } else {
      const { r, alpha } = spec;
      if (!Number.isInteger(r) || r <= 0)
        throw new CoreError("InvalidArgument", `${this.name}: expected a positive integer rank, found ${r}`);
      const scaling = loraScaling(alpha, r, spec.useRslora);
      const init = spec.init ?? true;
      const pissa = typeof init === "string" && init.startsWith("pissa");
      if (pissa && this.mergeStack.length > 0)
        throw new CoreError("InvalidArgument", `${this.name}: PiSSA init rewrites the base weight: unmerge first`);
      const made = initAdapter({
        init,
        inFeatures: n,
        outFeatures: m,
        r,
        scaling,
        seed: spec.seed ?? this.rng.int(),
        embedding: this.embedding,
        weight: () => this.weight.dataSync() as Float32Array,
      });
      entry = {
        A: toVariable(tf.tensor2d(made.A, [n, r]), true, true),
        B: toVariable(tf.tensor2d(made.B, [r, m]), true, true),
        r,
        alpha,
        scaling,
        dropout: spec.dropout ?? 0,
      };
      if (made.residualWeight)
        tf.tidy(() => this.weight.assign(tf.tensor(made.residualWeight as Float32Array, this.weight.shape)));
    }
    this.adapters.set(name, entry);
    return entry;
  }

  /** Removes an adapter and disposes its tensors. A merged adapter must be unmerged first. */
  deleteAdapter(name: string): void {
    const a = this.getAdapter(name);
    if (this.mergedAdapters.includes(name))
      throw new CoreError("InvalidArgument", `${this.name}: adapter "${name}" is merged: unmerge before deleting`);
    a.A.dispose();
    a.B.dispose();
    this.adapters.delete(name);
    this.active = this.active.filter((n) => n !== name);
  }

  /** The only way to change which adapters the forward pass applies. */
  setActiveAdapters(names: string[]): void {
    for (const n of names) this.getAdapter(n);
    this.active = [...new Set(names)];
  }
  disableAdapters(): void {
    this.enabled = false;
  }
  enableAdapters(): void {
    this.enabled = true;
  }

  /** Adapters the unmerged LoRA path applies now: active, enabled and not folded into W. */
  liveAdapters(): LoraAdapterWeights[] {
    if (!this.enabled) return [];
    const merged = new Set(this.mergedAdapters);
    return this.active.filter((n) => !merged.has(n)).map((n) => this.getAdapter(n));
  }

  /** The base weight viewed as [in, out] (a conv kernel [kh, kw, cin, cout] as [kh·kw·cin, cout]). */
  weight2d(): tf.Tensor2D {
    return (
      this.weight.rank === 2 ? this.weight : tf.reshape(this.weight, [this.inFeatures, this.outFeatures])
    ) as tf.Tensor2D;
  }

  /** `scale·A·B` [in, out]. */
  deltaWeight(name: string): tf.Tensor2D {
    const a = this.getAdapter(name);
    return tf.tidy(() => tf.mul(tf.matMul(a.A, a.B), a.scaling));
  }

  private loraTerm(x: tf.Tensor2D, a: LoraAdapterWeights, training: boolean): tf.Tensor2D {
    const h = training && a.dropout > 0 ? tf.dropout(x, a.dropout, undefined, this.rng.int()) : x;
    return tf.mul(tf.matMul(tf.matMul(h, a.A), a.B), a.scaling);
  }

  /**
   * `x` [..., in] -> [..., out]. With `training`, adapter dropout is applied. The first live adapter whose
   * input is `x` itself (no dropout now) runs fused with the base through core's `loraLinear` op (the
   * backend's registered LoraLinear kernel, or its composition); any others add their own term.
   */
  forward(x: tf.Tensor, opts: { training?: boolean } = {}): tf.Tensor {
    this.assertLive();
    const training = opts.training ?? false;
    return tf.tidy(() => {
      const lead = x.shape.slice(0, -1);
      if (x.shape[x.rank - 1] !== this.inFeatures)
        throw new CoreError(
          "ShapeMismatch",
          `${this.name}: expected input [..., ${this.inFeatures}], found [${x.shape.join(", ")}]`,
        );
      const flat = tf.reshape(x, [-1, this.inFeatures]) as tf.Tensor2D;
      const x2 = flat.dtype === "float32" ? flat : (tf.cast(flat, "float32") as tf.Tensor2D);
      const live = this.liveAdapters();
      const fused = live.find((a) => !(training && a.dropout > 0));
      let y: tf.Tensor2D;
      if (fused)
        y = loraLinear(
          x2,
          this.weight2d(),
          as2d(fused.A),
          as2d(fused.B),
          fused.scaling,
          this.bias ? (this.bias as tf.Tensor1D) : undefined,
        );
      else {
        y = tf.matMul(x2, this.weight2d());
        if (this.bias) y = tf.add(y, this.bias);
      }
      for (const a of live) if (a !== fused) y = tf.add(y, this.loraTerm(x2, a, training));
      return tf.reshape(y, [...lead, this.outFeatures]);
    });
  }

  /** Embedding lookup: `ids` (any shape, integer) -> [...ids.shape, out], rows of W plus `scale·A[ids]·B`. */
  forwardEmbedding(ids: tf.Tensor): tf.Tensor {
    this.assertLive();
    return tf.tidy(() => {
      const flat = tf.cast(tf.reshape(ids, [-1]), "int32");
      // The frozen base table needs no gradient; the adapter's A rows go through gatherRows, whose
      // gradient (a scatter-add) runs on every backend (tf.gather's needs UnsortedSegmentSum, missing on wasm).
      let y = tf.gather(this.weight2d(), flat) as tf.Tensor2D;
      for (const a of this.liveAdapters()) y = tf.add(y, tf.mul(tf.matMul(gatherRows(a.A, flat), a.B), a.scaling));
      return tf.reshape(y, [...ids.shape, this.outFeatures]);
    });
  }

  /**
   * Mixed batch: row i of `x` [n, in] goes through adapter `adapterPerRow[i]` (`"__base__"`: none).
   * Ignores the active set; refuses while anything is merged.
   */
  forwardMixed(x: tf.Tensor2D, adapterPerRow: string[]): tf.Tensor2D {
    this.assertLive();
    if (this.mergeStack.length > 0)
      throw new CoreError(
        "InvalidArgument",
        `${this.name}: a mixed batch needs unmerged adapters, found merged [${this.mergedAdapters.join(", ")}]`,
      );
    if (x.rank !== 2 || x.shape[1] !== this.inFeatures || adapterPerRow.length !== x.shape[0])
      throw new CoreError(
        "ShapeMismatch",
        `${this.name}: expected x [${adapterPerRow.length}, ${this.inFeatures}] (one adapter name per row), found [${x.shape.join(", ")}]`,
      );
    const names: string[] = [];
    const idx = new Int32Array(adapterPerRow.length);
    adapterPerRow.forEach((n, i) => {
      if (n === BASE_ADAPTER) {
        idx[i] = -1;
        return;
      }
      this.getAdapter(n);
      let slot = names.indexOf(n);
      if (slot < 0) slot = names.push(n) - 1;
      idx[i] = slot;
    });
    return tf.tidy(() => {
      let y: tf.Tensor2D = tf.matMul(x, this.weight2d());
      if (this.bias) y = tf.add(y, this.bias);
      if (names.length === 0) return y;
      const adapters = names.map((n) => this.getAdapter(n));
      const scales = Float32Array.from(idx, (a) => (a < 0 ? 0 : (adapters[a] as LoraAdapterWeights).scaling));
      // core's gathered LoRA op: the backend's registered kernel, or its fastest measured composition
      const pairs = adapters.map((a) => ({ A: as2d(a.A), B: as2d(a.B) }));
      return tf.add(y, bgmvAdapters(x, pairs, idx, scales)) as tf.Tensor2D;
    });
  }

  /**
   * Folds adapters (default: the active ones not yet merged) into W and pushes them on the merge stack.
   * `safe`: computes the merged weight first and throws `NonFinite` without changing anything if it holds NaN/Inf.
   */
  merge(names?: string[], opts: { safe?: boolean } = {}): void {
    this.assertLive();
    const already = new Set(this.mergedAdapters);
    const list = (names ?? this.active).filter((n) => !already.has(n));
    for (const n of list) this.getAdapter(n);
    if (list.length === 0) return;
    const merged = tf.tidy(() =>
      tf.reshape(
        list.reduce<tf.Tensor>((w, n) => tf.add(w, this.deltaWeight(n)), this.weight2d()),
        this.weight.shape,
      ),
    );
    if (opts.safe) {
      const finite = tf.tidy(() => tf.all(tf.isFinite(merged)).dataSync()[0] === 1);
      if (!finite) {
        merged.dispose();
        throw new CoreError(
          "NonFinite",
          `${this.name}: merging [${list.join(", ")}] would give NaN/Inf weights; nothing was changed`,
        );
      }
    }
    this.weight.assign(merged);
    merged.dispose();
    this.mergeStack.push(list);
  }

  /** Pops the last merge (LIFO): subtracts those adapters' deltas from W. */
  unmerge(): string[] {
    this.assertLive();
    const list = this.mergeStack.pop();
    if (!list) throw new CoreError("NotMerged", `${this.name}: expected a merged adapter to unmerge, found none`);
    const w = tf.tidy(() =>
      tf.reshape(
        list.reduce<tf.Tensor>((acc, n) => tf.sub(acc, this.deltaWeight(n)), this.weight2d()),
        this.weight.shape,
      ),
    );
    this.weight.assign(w);
    w.dispose();
    return list;
  }

  /** Trainable variables of the named adapters (default: all). */
  adapterVariables(names?: string[]): tf.Variable[] {
    return (names ?? this.adapterNames).flatMap((n) => {
      const a = this.getAdapter(n);
      return [a.A, a.B];
    });
  }

  dispose(): void {
    if (this.disposed) return;
    for (const a of this.adapters.values()) {
      a.A.dispose();
      a.B.dispose();
    }
    this.adapters.clear();
    this.active = [];
    if (this.ownsWeight) this.weight.dispose();
    if (this.ownsBias) this.bias?.dispose();
    this.disposed = true;
  }
  [Symbol.dispose](): void {
    this.dispose();
  }

  private assertLive(): void {
    if (this.disposed) throw new CoreError("InvalidArgument", `${this.name}: used after dispose()`);
  }
}

/** A float32 variable holding a copy of `t`; `consume` disposes `t`. */
export function toVariable(t: tf.Tensor, trainable: boolean, consume = false): tf.Variable {
  const c = tf.cast(t, "float32");
  const v = tf.variable(c, trainable);
  c.dispose();
  if (consume) t.dispose();
  return v;
}

/** An adapter's A or B variable, which is always 2-D, as the ops take it. */
function as2d(v: tf.Variable): tf.Tensor2D {
  return v as unknown as tf.Tensor2D;
}
