import * as tf from "@tensorflow/tfjs-core";
import type { SequenceKv } from "./KvDecoder.js";

/**
 * The KV caches of a decode batch in one tensor per layer for keys and one for values
 * [rows, heads, T, headDim]: row i's `lengths[i]` positions are its last columns, the ones before are
 * padding. A step appends one column for every row (two concats per layer, whatever the batch size);
 * rows join from their prefill caches (left-padded to T) and leave by a gather along the batch axis,
 * after which columns no row uses any more are cut off, so T stays the longest row's length.
 */
export class BatchKv {
  keys: tf.Tensor4D[] = [];
  values: tf.Tensor4D[] = [];
  lengths: number[] = [];

  get rows(): number {
    return this.lengths.length;
  }

  get columns(): number {
    return (this.keys[0]?.shape[2] as number | undefined) ?? 0;
  }

  /** Appends one row per prefill cache, in order, taking ownership of (and disposing) those caches. */
  join(caches: readonly SequenceKv[]): void {
    if (!caches.length) return;
    const T = Math.max(this.columns, ...caches.map((c) => c.length));
    const layers = (caches[0] as SequenceKv).keys.length;
    const keys = tf.tidy(() =>
      Array.from({ length: layers }, (_, l) =>
        this.merged(
          this.keys[l],
          caches.map((c) => c.keys[l] as tf.Tensor4D),
          caches,
          T,
        ),
      ),
    );
    const values = tf.tidy(() =>
      Array.from({ length: layers }, (_, l) =>
        this.merged(
          this.values[l],
          caches.map((c) => c.values[l] as tf.Tensor4D),
          caches,
          T,
        ),
      ),
    );
    tf.dispose([...this.keys, ...this.values, ...caches.flatMap((c) => [...c.keys, ...c.values])]);
    this.keys = keys;
    this.values = values;
    this.lengths.push(...caches.map((c) => c.length));
  }

  /** Keeps the rows at `keep` (indices in the current order, ascending). */
  retain(keep: readonly number[]): void {
    if (keep.length === this.rows) return;
    if (!keep.length) {
      this.dispose();
      return;
    }
    const lengths = keep.map((i) => this.lengths[i] as number);
    const T = Math.max(...lengths);
    const cut = this.columns - T;
    const pick = (t: tf.Tensor4D) =>
      tf.tidy(() => {
        const rows = tf.gather(t, tf.tensor1d(Int32Array.from(keep), "int32"), 0) as tf.Tensor4D;
        if (!cut) return rows;
        const [n, h, , hd] = rows.shape;
        return tf.slice(rows, [0, 0, cut, 0], [n, h, T, hd]);
      });
    const keys = this.keys.map(pick);
    const values = this.values.map(pick);
    tf.dispose([...this.keys, ...this.values]);
    this.keys = keys;
    this.values = values;
    this.lengths = lengths;
  }

  /** Replaces the caches after a step appended one column (each row one position longer). */
  advance(keys: tf.Tensor4D[], values: tf.Tensor4D[]): void {
    tf.dispose([...this.keys, ...this.values]);
    this.keys = keys;
    this.values = values;
    this.lengths = this.lengths.map((n) => n + 1);
  }

  /** Bytes held, padding included. */
  get bytes(): number {
    return [...this.keys, ...this.values].reduce((s, t) => s + t.size * 4, 0);
  }

  dispose(): void {
    tf.dispose([...this.keys, ...this.values]);
    this.keys = [];
    this.values = [];
    this.lengths = [];
  }

  private merged(mine: tf.Tensor4D | undefined, theirs: tf.Tensor4D[], caches: readonly SequenceKv[], T: number) {
    const parts = [
      ...(mine && this.rows ? [padLeft(mine, T - this.columns)] : []),
      ...theirs.map((t, i) => padLeft(t, T - (caches[i] as SequenceKv).length)),
    ];
    return parts.length === 1
      ? (tf.clone(parts[0] as tf.Tensor4D) as tf.Tensor4D)
      : (tf.concat(parts, 0) as tf.Tensor4D);
  }
}

function padLeft(t: tf.Tensor4D, columns: number): tf.Tensor4D {
  return columns > 0
    ? tf.pad(t, [
        [0, 0],
        [0, 0],
        [columns, 0],
        [0, 0],
      ])
    : t;
}
