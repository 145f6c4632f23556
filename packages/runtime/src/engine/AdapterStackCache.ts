import * as tf from "@tensorflow/tfjs-core";
import type { ResidentModule } from "./types.js";

/**
 * One module's adapters side by side: aCat = [A_1 | ... | A_k] ([in, Σr]) and bCat = [B_1; ...; B_k]
 * ([Σr, out]); adapter j owns columns (rows of bCat) offsets[j] .. offsets[j] + rank_j. No padding.
 */
export interface AdapterStack {
  aCat: tf.Tensor2D;
  bCat: tf.Tensor2D;
  offsets: Int32Array;
  members: readonly ResidentModule[];
  bytes: number;
}

const ids = new WeakMap<ResidentModule, number>();
let nextId = 1;
function idOf(m: ResidentModule): number {
  const known = ids.get(m);
  if (known !== undefined) return known;
  const id = nextId++;
  ids.set(m, id);
  return id;
}

/**
 * LRU of concatenated adapter stacks, keyed by (module name, ordered adapter set), so a batch that
 * repeats a composition reuses the same tensors (no per-batch copy, and wasm's matmul keeps its packed
 * weights for them). Entries holding a disposed adapter are dropped on lookup; `release` drops every
 * entry that holds a module (called when an adapter is disposed).
 */
export class AdapterStackCache {
  private readonly entries = new Map<string, AdapterStack>();
  private bytes = 0;

  constructor(readonly maxBytes: number = 64 * 2 ** 20) {}

  get size(): number {
    return this.entries.size;
  }

  get totalBytes(): number {
    return this.bytes;
  }

  /** The stack for `members` (in that order) of `module`, built on a miss. Safe inside a tidy (kept). */
  get(module: string, members: readonly ResidentModule[]): AdapterStack {
    const key = `${module}\u0000${members.map(idOf).join(",")}`;
    const hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key);
      if (!hit.members.some((m) => m.A.isDisposed || m.B.isDisposed)) {
        this.entries.set(key, hit);
        return hit;
      }
      this.drop(hit);
    }
    const stack = tf.tidy(() => {
      const aCat =
        members.length === 1
          ? tf.clone((members[0] as ResidentModule).A)
          : tf.concat(
              members.map((m) => m.A),
              1,
            );
      const bCat =
        members.length === 1
          ? tf.clone((members[0] as ResidentModule).B)
          : tf.concat(
              members.map((m) => m.B),
              0,
            );
      return { aCat, bCat };
    });
    tf.keep(stack.aCat);
    tf.keep(stack.bCat);
    const offsets = new Int32Array(members.length + 1);
    members.forEach((m, j) => {
      offsets[j + 1] = (offsets[j] as number) + m.rank;
    });
    const entry: AdapterStack = {
      ...stack,
      offsets,
      members: [...members],
      bytes: (stack.aCat.size + stack.bCat.size) * 4,
    };
    this.entries.set(key, entry);
    this.bytes += entry.bytes;
    for (const [k, e] of this.entries) {
      if (this.bytes <= this.maxBytes || e === entry) break;
      this.entries.delete(k);
      this.drop(e);
    }
    return entry;
  }

  /** Dispose every entry that holds `m` (its adapter is going away). */
  release(m: ResidentModule): void {
    for (const [k, e] of this.entries) {
      if (!e.members.includes(m)) continue;
      this.entries.delete(k);
      this.drop(e);
    }
  }

  clear(): void {
    for (const e of this.entries.values()) this.drop(e);
    this.entries.clear();
  }

  private drop(e: AdapterStack): void {
    this.bytes -= e.bytes;
    tf.dispose([e.aCat, e.bCat]);
  }
}

/** The process-wide cache used by LoraBatchPlan's concatenated path; ResidentAdapter releases from it. */
export const adapterStacks = new AdapterStackCache();
