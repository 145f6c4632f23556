import type * as tf from "@tensorflow/tfjs-core";
import type { LoraConfig } from "../config/LoraConfig.js";
import { isTargetModule, matchesModuleList, rankAndAlphaFor } from "../config/moduleMatch.js";
import { CoreError } from "../errors.js";
import { LoraLinear } from "../lora/LoraLinear.js";
import { Rng } from "../random.js";
import type { ModuleSite, ModuleSource } from "./ModuleSource.js";

/**
 * A model with LoRA injected: one `LoraLinear` per adapted module, adapters by name across all of them
 * (PEFT's `PeftModel`/`LoraModel`). Obtain one from `injectLora`.
 */
export class LoraModel {
  /** Adapted modules by module name. */
  readonly layers = new Map<string, LoraLinear>();
  /** Each adapter's config, by adapter name. */
  readonly configs = new Map<string, LoraConfig>();
  private readonly sites = new Map<string, ModuleSite>();
  private readonly extraTrainable = new Map<string, tf.Variable>();
  private active: string[] = [];
  private disposed = false;

  constructor(private readonly source: ModuleSource) {}

  get adapterNames(): string[] {
    return [...this.configs.keys()];
  }
  get activeAdapters(): string[] {
    return [...this.active];
  }

  /** Adds an adapter to every module `config` targets (creating LoRA layers as needed). Not activated. */
  addAdapter(name: string, config: LoraConfig, opts: { seed?: number } = {}): void {
    this.assertLive();
    if (this.configs.has(name)) throw new CoreError("DuplicateAdapter", `adapter "${name}" already exists`);
    const all = this.source.sites();
    const targets = all.filter((s) => isTargetModule(s.name, config, s.isOutputHead));
    if (targets.length === 0) {
      const names = all.map((s) => s.name);
      throw new CoreError(
        "NoMatchingModules",
        `target_modules ${JSON.stringify(config.target_modules)} matched no module; expected a match among [${names.slice(0, 20).join(", ")}${names.length > 20 ? ", ..." : ""}]`,
        { target_modules: config.target_modules, modules: names },
      );
    }
    const rng = new Rng(opts.seed ?? 0);
    const added: LoraLinear[] = [];
    try {
      for (const site of targets) {
        let layer = this.layers.get(site.name);
        if (!layer) {
          layer = new LoraLinear({
            weight: site.weight,
            bias: site.bias,
            name: site.name,
            embedding: site.kind === "embedding",
            seed: rng.int(),
          });
          this.layers.set(site.name, layer);
          this.sites.set(site.name, site);
          site.attach(layer);
          layer.setActiveAdapters(this.active.filter((a) => layer?.hasAdapter(a)));
        }
        const { r, alpha } = rankAndAlphaFor(site.name, config);
        layer.addAdapter(name, {
          r,
          alpha,
          dropout: config.lora_dropout,
          useRslora: config.use_rslora,
          init: config.init_lora_weights,
          seed: rng.int(),
        });
        added.push(layer);
      }
    } catch (e) {
      for (const l of added) l.deleteAdapter(name);
      throw e;
    }
    this.configs.set(name, config);
    this.applyTrainability(
      config,
      targets.map((t) => t.name),
    );
  }

  /** Registers an adapter whose weights the caller fills per layer (`adapterFromPeft`, composition). */
  registerAdapter(name: string, config: LoraConfig): void {
    if (this.configs.has(name)) throw new CoreError("DuplicateAdapter", `adapter "${name}" already exists`);
    this.configs.set(name, config);
  }

  /** Ensures a LoRA layer exists over module `moduleName` (for loading adapter weights). */
  layerFor(moduleName: string): LoraLinear {
    const have = this.layers.get(moduleName);
    if (have) return have;
    const site = this.source.sites().find((s) => s.name === moduleName);
    if (!site)
      throw new CoreError("NoMatchingModules", `expected a module named "${moduleName}" in the model, found none`);
    const layer = new LoraLinear({
      weight: site.weight,
      bias: site.bias,
      name: site.name,
      embedding: site.kind === "embedding",
    });
    this.layers.set(site.name, layer);
    this.sites.set(site.name, site);
    site.attach(layer);
    return layer;
  }

  private applyTrainability(config: LoraConfig, adapted: string[]): void {
    const vars = this.source.namedVariables();
    const extra = new Set<string>();
    const save = config.modules_to_save;
    for (const key of vars.keys()) {
      const module = key.slice(0, key.lastIndexOf("."));
      const leaf = key.slice(key.lastIndexOf(".") + 1);
      if (save && matchesModuleList(module, save)) extra.add(key);
      if (leaf === "bias" && (config.bias === "all" || (config.bias === "lora_only" && adapted.includes(module))))
        extra.add(key);
    }
    for (const key of extra) {
      const v = vars.get(key) as tf.Variable;
      this.extraTrainable.set(key, v);
      this.source.setTrainable?.(key, true);
    }
  }

  /** The only way to change the active set, across all layers (a layer without an adapter skips it). */
  setActiveAdapters(names: string[]): void {
    for (const n of names)
      if (!this.configs.has(n))
        throw new CoreError("UnknownAdapter", `expected one of [${this.adapterNames.join(", ")}], found "${n}"`);
    this.active = [...new Set(names)];
    for (const l of this.layers.values()) l.setActiveAdapters(this.active.filter((n) => l.hasAdapter(n)));
  }
  disableAdapters(): void {
    for (const l of this.layers.values()) l.disableAdapters();
  }
  enableAdapters(): void {
    for (const l of this.layers.values()) l.enableAdapters();
  }
  deleteAdapter(name: string): void {
    if (!this.configs.has(name))
      throw new CoreError("UnknownAdapter", `expected one of [${this.adapterNames.join(", ")}], found "${name}"`);
    for (const l of this.layers.values()) if (l.hasAdapter(name)) l.deleteAdapter(name);
    this.configs.delete(name);
    this.active = this.active.filter((n) => n !== name);
  }

  /** Merges adapters (default: active) into every layer's base weight; `safe` checks all layers before changing any. */
  merge(names?: string[], opts: { safe?: boolean } = {}): void {
    const list = names ?? this.active;
    for (const n of list)
      if (!this.configs.has(n))
        throw new CoreError("UnknownAdapter", `expected one of [${this.adapterNames.join(", ")}], found "${n}"`);
    const done: LoraLinear[] = [];
    try {
      for (const l of this.layers.values()) {
        const here = list.filter((n) => l.hasAdapter(n) && !l.mergedAdapters.includes(n));
        if (here.length === 0) continue;
        l.merge(here, opts);
        done.push(l);
      }
    } catch (e) {
      for (const l of done.reverse()) l.unmerge();
      throw e;
    }
  }
  /** Unmerges the last merge of every layer. */
  unmerge(): void {
    let any = false;
    for (const l of this.layers.values())
      if (l.mergedAdapters.length > 0) {
        l.unmerge();
        any = true;
      }
    if (!any) throw new CoreError("NotMerged", "expected merged adapters to unmerge, found none");
  }

  /** Variables to train: the active adapters' A and B, plus `modules_to_save` and biases the configs asked for. */
  trainableVariables(): tf.Variable[] {
    const out: tf.Variable[] = [];
    for (const l of this.layers.values()) out.push(...l.adapterVariables(l.activeAdapters));
    out.push(...this.extraTrainable.values());
    return out;
  }
  /** Every base variable of the model by parameter name. */
  baseVariables(): Map<string, tf.Variable> {
    return this.source.namedVariables();
  }

  forward(x: tf.Tensor, opts: { training?: boolean } = {}): tf.Tensor {
    if (!this.source.forward)
      throw new CoreError(
        "InvalidArgument",
        "this host has no forward(): implement LinearHost.forward to run or train it",
      );
    return this.source.forward(x, { training: opts.training ?? false });
  }

  /** Reseeds every layer's dropout. */
  reseed(seed: number): void {
    const rng = new Rng(seed);
    for (const l of this.layers.values()) l.reseed(rng.int());
  }

  /** Detaches LoRA from every module (restoring their own forward) and disposes all adapter tensors. Merged weights stay merged unless unmerged first. */
  dispose(): void {
    if (this.disposed) return;
    for (const [name, l] of this.layers) {
      this.sites.get(name)?.detach();
      while (l.mergedAdapters.length > 0) l.unmerge();
      l.dispose();
    }
    this.layers.clear();
    this.disposed = true;
  }
  [Symbol.dispose](): void {
    this.dispose();
  }
  private assertLive(): void {
    if (this.disposed) throw new CoreError("InvalidArgument", "LoraModel used after dispose()");
  }
}
