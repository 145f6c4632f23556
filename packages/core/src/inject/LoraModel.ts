import type * as tf from "@tensorflow/tfjs-core";
import type { LoraConfig } from "../config/LoraConfig.js";
import { isTargetModule, rankAndAlphaFor, savedModuleOf } from "../config/moduleMatch.js";
import { CoreError } from "../errors.js";
import { LoraLinear } from "../lora/LoraLinear.js";
import { Rng } from "../random.js";
import type { ModuleSite, ModuleSource } from "./ModuleSource.js";
import { SavedModules } from "./SavedModules.js";

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
  /** Base biases that `bias: "all" | "lora_only"` trains (shared by every adapter, as in PEFT). */
  private readonly extraTrainable = new Map<string, tf.Variable>();
  /** `modules_to_save`: each adapter's whole copies of base parameters, swapped in with the active set. */
  private readonly saved: SavedModules;
  private enabled = true;
  private active: string[] = [];
  private disposed = false;

  /** The base variables' own trainability flags before injection (tfjs-layers), restored by `dispose`. */
  private readonly frozen = new Map<string, boolean>();

  /** Freezes every base variable the model keeps a flag for, as PEFT freezes the base model. */
  constructor(private readonly source: ModuleSource) {
    this.saved = new SavedModules(source);
    for (const key of source.namedVariables().keys()) {
      const flag = source.trainableFlag?.(key);
      if (flag === undefined) continue;
      this.frozen.set(key, flag);
      source.setTrainable?.(key, false);
    }
  }

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
    const saveKeys = this.saveKeysFor(config);
    // A module is either adapted (LoRA, merged into its weight) or saved (a whole copy swapped in), in this
    // adapter and across adapters: mixing the two would let a swap undo a merge.
    for (const key of saveKeys) {
      const clash = [...targets.map((t) => t.name), ...this.layers.keys()].find(
        (m) => key === `${m}.weight` || key === `${m}.bias` || key.startsWith(`${m}.`),
      );
      if (clash !== undefined)
        throw new CoreError(
          "InvalidConfig",
          `LoraConfig.modules_to_save: expected modules that no adapter adapts with LoRA, found "${clash}" adapted and saved`,
          { field: "modules_to_save" },
        );
    }
    for (const t of targets)
      if (this.saved.savesModule(t.name))
        throw new CoreError(
          "InvalidConfig",
          `LoraConfig.target_modules: expected modules no adapter saves whole (modules_to_save), found "${t.name}"`,
          { field: "target_modules" },
        );
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
    for (const key of saveKeys) this.saved.put(name, key, null, this.isActive(name));
    if (saveKeys.length > 0) this.saved.swap(this.active, this.enabled); // sets the copies' trainable flags (not active yet)
    this.applyTrainability(
      config,
      targets.map((t) => t.name),
    );
  }

  /** Parameter names (`<module>.<param>`) of the base variables that `config.modules_to_save` selects. */
  private saveKeysFor(config: LoraConfig): string[] {
    return [...this.source.namedVariables().keys()].filter((key) => savedModuleOf(key, config.modules_to_save));
  }

  private isActive(name: string): boolean {
    return this.enabled && this.active.includes(name);
  }

  /**
   * Adapter `name`'s `modules_to_save` parameters by base parameter name, in tfjs layout (fresh tensors the
   * caller disposes); empty when it has none.
   */
  savedModulesOf(name: string): Map<string, tf.Tensor> {
    return this.saved.copiesOf(name);
  }

  /** A base parameter as PEFT files name and lay it out (`modules_to_save` copies); a new tensor. */
  toPeftParameter(key: string, value: tf.Tensor, fanInFanOut: boolean): { key: string; value: tf.Tensor } {
    return this.source.toPeftParameter(key, value, fanInFanOut);
  }
  /** A PEFT parameter (`<module>.<param>`, torch layout) as this model's key and layout; null when the model has none. */
  fromPeftParameter(peftKey: string, value: tf.Tensor, fanInFanOut: boolean): { key: string; value: tf.Tensor } | null {
    return this.source.fromPeftParameter(peftKey, value, fanInFanOut);
  }

  /** Sets adapter `name`'s copy of base parameter `key` (tfjs layout), e.g. from a PEFT file. Takes ownership of `value`. */
  setSavedModule(name: string, key: string, value: tf.Tensor): void {
    if (!this.configs.has(name)) {
      value.dispose();
      throw new CoreError("UnknownAdapter", `expected one of [${this.adapterNames.join(", ")}], found "${name}"`);
    }
    this.saved.put(name, key, value, this.isActive(name));
    this.saved.swap(this.active, this.enabled); // an active adapter's new copy goes in place at once
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
    if (this.saved.savesModule(moduleName))
      throw new CoreError(
        "InvalidArgument",
        `expected a module no adapter saves whole (modules_to_save) for LoRA, found "${moduleName}"`,
      );
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
    for (const key of vars.keys()) {
      const module = key.slice(0, key.lastIndexOf("."));
      const leaf = key.slice(key.lastIndexOf(".") + 1);
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
    const next = [...new Set(names)];
    this.saved.swap(next, this.enabled); // throws before changing anything on a conflict
    this.active = next;
    for (const l of this.layers.values()) l.setActiveAdapters(this.active.filter((n) => l.hasAdapter(n)));
  }
  /** Runs the base alone: LoRA terms off and `modules_to_save` parameters back to the base's originals. */
  disableAdapters(): void {
    this.saved.swap(this.active, false);
    this.enabled = false;
    for (const l of this.layers.values()) l.disableAdapters();
  }
  enableAdapters(): void {
    this.saved.swap(this.active, true);
    this.enabled = true;
    for (const l of this.layers.values()) l.enableAdapters();
  }
  deleteAdapter(name: string): void {
    if (!this.configs.has(name))
      throw new CoreError("UnknownAdapter", `expected one of [${this.adapterNames.join(", ")}], found "${name}"`);
    for (const l of this.layers.values()) if (l.hasAdapter(name)) l.deleteAdapter(name);
    this.configs.delete(name);
    this.active = this.active.filter((n) => n !== name);
    this.saved.forget(name);
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

  /** Variables to train: the active adapters' A and B, their `modules_to_save` copies, and biases the configs asked for. */
  trainableVariables(): tf.Variable[] {
    const out: tf.Variable[] = [];
    for (const l of this.layers.values()) out.push(...l.adapterVariables(l.activeAdapters));
    out.push(...this.saved.trainableVariables());
    out.push(...this.extraTrainable.values());
    return [...new Set(out)];
  }
  /**
   * Parameters `modules_to_save` keeps beside the model's own variables: the copies not swapped in, and the
   * original of each swapped-in one. Counted as PEFT counts them (the original module plus one copy per adapter).
   */
  savedCopiesSize(): number {
    return this.saved.copiesSize();
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
    this.saved.dispose();
    for (const [key, flag] of this.frozen) this.source.setTrainable?.(key, flag);
    this.frozen.clear();
    this.disposed = true;
  }
  [Symbol.dispose](): void {
    this.dispose();
  }
  private assertLive(): void {
    if (this.disposed) throw new CoreError("InvalidArgument", "LoraModel used after dispose()");
  }
}
