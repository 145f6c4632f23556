import type { Dtype } from "../dtype.js";
import { FormatError } from "../errors.js";
import type { SafetensorsHeader, TensorInfo } from "./parseSafetensorsHeader.js";

/** One tensor's raw little-endian bytes. */
export interface Tensor {
  readonly dtype: Dtype;
  readonly shape: readonly number[];
  readonly data: Uint8Array;
}

/** Header facts shared by the in-memory file and the lazy readers. */
export abstract class SafetensorsIndex {
  readonly metadata: Readonly<Record<string, string>> | null;
  readonly tensors: ReadonlyMap<string, TensorInfo>;
  /** Length of the JSON header in bytes (without the 8-byte prefix). */
  readonly headerByteLength: number;
  /** Absolute offset of the data section in the file: 8 + headerByteLength. */
  readonly dataOffset: number;

  constructor(header: SafetensorsHeader, headerByteLength: number) {
    this.metadata = header.metadata;
    this.tensors = header.tensors;
    this.headerByteLength = headerByteLength;
    this.dataOffset = 8 + headerByteLength;
  }

  /** Tensor names in data-offset order. */
  names(): string[] {
    return [...this.tensors.keys()];
  }

  has(name: string): boolean {
    return this.tensors.has(name);
  }

  /** `TensorNotFound` when there is no such tensor. */
  info(name: string): TensorInfo {
    const info = this.tensors.get(name);
    if (!info) {
      throw new FormatError(
        "TensorNotFound",
        `safetensors: expected a tensor named ${JSON.stringify(name)}, found none among ${this.tensors.size}`,
      );
    }
    return info;
  }
}

/** A whole safetensors file in memory; tensors are zero-copy views into its bytes. */
export class SafetensorsFile extends SafetensorsIndex {
  /** The data section (everything after the header). */
  readonly data: Uint8Array;

  constructor(header: SafetensorsHeader, headerByteLength: number, data: Uint8Array) {
    super(header, headerByteLength);
    this.data = data;
  }

  /** The tensor's bytes as a view (no copy) into the file buffer. */
  getTensor(name: string): Tensor {
    const info = this.info(name);
    const [start, end] = info.dataOffsets;
    return { dtype: info.dtype, shape: info.shape, data: this.data.subarray(start, end) };
  }
}
