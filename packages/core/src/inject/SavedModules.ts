import * as tf from "@tensorflow/tfjs-core";
import { CoreError } from "../errors.js";
import type { ModuleSource } from "./ModuleSource.js";

interface Entry {
  variable: tf.Variable;
  original: tf.Tensor;
  /** The adapter whose copy is in the variable now (null: the base's original values). */
  owner: string | null;
  /** Each other adapter's copy, by adapter name. */
  copies: Map<string, tf.Tensor>;
}

/**
 * `modules_to_save` bookkeeping (PEFT's ModulesToSaveWrapper): per base parameter, the base's own values and
 * one copy per adapter. The model's variable holds the copy of the active adapter that owns it (swapped in),
 * else the original; a copy that is swapped in lives in the variable and is written back when swapped out.
 */
export class SavedModules {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly source: ModuleSource) {}

  /** Whether some adapter keeps a whole copy of a parameter of module `module`. */
  savesModule(module: string): boolean {
    return [...this.entries.keys()].some((key) => key.startsWith(`${module}.`));
  }

  /**
   * Gives adapter `name` its own copy of base parameter `key`: `value` ([tfjs layout]) or, when null, a copy
   * of the base's original values (what PEFT's ModulesToSaveWrapper starts from). Takes ownership of `value`.
   * `active`: whether `name` is active now (a second active owner of one parameter is refused).
   */
  put(name: string, key: string, value: tf.Tensor | null, active: boolean): void {
    let entry = this.entries.get(key);
    if (!entry) {
      const variable = this.source.namedVariables().get(key);
      if (!variable) {
        value?.dispose();
        throw new CoreError("NoMatchingModules", `modules_to_save: expected a base parameter "${key}", found none`);
      }
      entry = { variable, original: tf.clone(variable), owner: null, copies: new Map() };
      this.entries.set(key, entry);
    }
    if (value && !sameShape(value.shape, entry.variable.shape)) {
      const found = value.shape;
      value.dispose();
      throw new CoreError(
        "ShapeMismatch",
        `modules_to_save "${key}": expected shape [${entry.variable.shape}], found [${found}]`,
      );
    }
    if (entry.owner === name) {
      entry.variable.assign(value ?? entry.original);
      value?.dispose();
      return;
    }
    const rival = active ? entry.owner : null;
    if (rival !== null) {
      value?.dispose();
      throw new CoreError(
        "InvalidArgument",
        `modules_to_save "${key}": expected at most one active adapter with its own copy, found "${rival}" and "${name}"`,
      );
    }
    entry.copies.get(name)?.dispose();
    entry.copies.set(name, value ?? tf.clone(entry.original));
  }

  /** Puts each parameter's right values in place for the active set (the originals when disabled). */
  swap(active: readonly string[], enabled: boolean): void {
    // Decide every parameter's owner first, so a conflict changes nothing.
    const plan: Array<[Entry, string, string | null]> = [];
    for (const [key, entry] of this.entries) {
      const wants = enabled ? active.filter((a) => entry.copies.has(a) || entry.owner === a) : [];
      if (wants.length > 1)
        throw new CoreError(
          "InvalidArgument",
          `modules_to_save "${key}": expected at most one active adapter with its own copy, found [${wants.join(", ")}]`,
        );
      plan.push([entry, key, wants[0] ?? null]);
    }
    for (const [entry, key, next] of plan) {
      if (next !== entry.owner) {
        if (entry.owner !== null) entry.copies.set(entry.owner, tf.clone(entry.variable));
        if (next === null) entry.variable.assign(entry.original);
        else {
          const copy = entry.copies.get(next) as tf.Tensor;
          entry.variable.assign(copy);
          copy.dispose();
          entry.copies.delete(next);
        }
        entry.owner = next;
      }
      // Trainable only while an adapter's copy is in place (tfjs-layers' fit reads the flag).
      this.source.setTrainable?.(key, entry.owner !== null);
    }
  }

  /** Adapter `name`'s parameters by base parameter name, in tfjs layout (fresh tensors the caller disposes). */
  copiesOf(name: string): Map<string, tf.Tensor> {
    const out = new Map<string, tf.Tensor>();
    for (const [key, e] of this.entries) {
      if (e.owner === name) out.set(key, tf.clone(e.variable));
      else {
        const copy = e.copies.get(name);
        if (copy) out.set(key, tf.clone(copy));
      }
    }
    return out;
  }

  /** Drops adapter `name`'s copies (restoring the originals it had swapped in); a parameter nobody saves is released. */
  forget(name: string): void {
    for (const [key, e] of this.entries) {
      if (e.owner === name) {
        e.variable.assign(e.original);
        e.owner = null;
        this.source.setTrainable?.(key, false);
      }
      e.copies.get(name)?.dispose();
      e.copies.delete(name);
      if (e.owner === null && e.copies.size === 0) {
        e.original.dispose();
        this.entries.delete(key);
      }
    }
  }

  /** The variables holding an adapter's copy now (trained with it). */
  trainableVariables(): tf.Variable[] {
    return [...this.entries.values()].filter((e) => e.owner !== null).map((e) => e.variable);
  }

  /** Parameters kept beside the model's variables: copies not swapped in, plus the original of each swapped-in one. */
  copiesSize(): number {
    let n = 0;
    for (const e of this.entries.values()) {
      for (const c of e.copies.values()) n += c.size;
      if (e.owner !== null) n += e.original.size;
    }
    return n;
  }

  /** Restores every original and frees every copy. */
  dispose(): void {
    for (const e of this.entries.values()) {
      e.variable.assign(e.original);
      e.original.dispose();
      for (const c of e.copies.values()) c.dispose();
    }
    this.entries.clear();
  }
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
