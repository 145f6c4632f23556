import type * as tf from "@tensorflow/tfjs-core";

/**
 * The part of tfjs-backend-webgpu's `WebGPUProgram` and `WebGPUBackend` these kernels use, stated
 * structurally so that @lowrank/core needs no dependency on the webgpu backend package.
 */
export interface WebGPUProgramLike {
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  variableNames: string[];
  workgroupSize: [number, number, number];
  size: boolean;
  uniforms?: string;
  getUserCode(): string;
}

export interface WebGPUBackendLike {
  runWebGPUProgram(
    program: WebGPUProgramLike,
    inputs: tf.TensorInfo[],
    outputDtype: tf.DataType,
    uniforms?: Array<{ type: string; data: number[] }>,
  ): tf.TensorInfo;
  disposeData(dataId: object, force?: boolean): boolean;
}

/** How a row finds its adapter: a dense single adapter, a per-row index, or the segment that holds it. */
export type RowMode = "dense" | "rows" | "segments";

const WORKGROUP = 64;

/** WGSL lines that set `a` (adapter, -1 = none) and `s` (scale) for output row `i`. */
function rowAdapterSnippet(mode: RowMode, withScale: boolean): string {
  if (mode === "dense") return `let a = 0; let s = ${withScale ? "uniforms.scale" : "1.0"};`;
  if (mode === "rows") return `let a = rowAdapter[i]; let s = ${withScale ? "rowScale[i]" : "1.0"};`;
  return `var a = -1; var s = 0.0;
      for (var g = 0; g < uniforms.segStartShape; g++) {
        if (i >= segStart[g] && i < segEnd[g]) { a = segAdapter[g]; s = ${withScale ? "segScale[g]" : "1.0"}; }
      }`;
}

abstract class FlatProgram implements WebGPUProgramLike {
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number] = [WORKGROUP, 1, 1];
  size = true;
  uniforms?: string;
  abstract shaderKey: string;
  abstract variableNames: string[];

  constructor(readonly outputShape: number[]) {
    this.dispatchLayout = { x: outputShape.map((_, i) => i) };
    const size = outputShape.reduce((p, d) => p * d, 1);
    this.dispatch = [Math.ceil(size / WORKGROUP), 1, 1];
  }

  abstract getUserCode(): string;
}

/** u [n, r] = s_i · x_i · A[a_i] (zero rows where a_i is none): the "shrink" half of LoRA. */
export class LoraShrinkProgram extends FlatProgram {
  shaderKey: string;
  variableNames: string[];

  constructor(
    private readonly mode: RowMode,
    outputShape: [number, number],
  ) {
    super(outputShape);
    this.shaderKey = `loraShrink_${mode}`;
    this.variableNames =
      mode === "dense"
        ? ["x", "loraA"]
        : mode === "rows"
          ? ["x", "loraA", "rowAdapter", "rowScale"]
          : ["x", "loraA", "segStart", "segEnd", "segAdapter", "segScale"];
    if (mode === "dense") this.uniforms = "scale : f32,";
  }

  getUserCode(): string {
    const k = this.mode === "dense" ? "1" : "uniforms.loraAShape.x";
    return `
    fn main(index : i32) {
      if (index < uniforms.size) {
        let r = uniforms.outShape.y;
        let i = index / r;
        let j = index - i * r;
        let inF = uniforms.xShape.y;
        ${rowAdapterSnippet(this.mode, true)}
        var acc = 0.0;
        if (a >= 0 && a < ${k} && s != 0.0) {
          let base = a * inF * r + j;
          let xRow = i * inF;
          for (var p = 0; p < inF; p++) {
            acc = acc + x[xRow + p] * loraA[base + p * r];
          }
          acc = acc * s;
        }
        setOutputAtIndex(index, acc);
      }
    }`;
  }
}

/**
 * y [n, out] = u_i · B[a_i] for the gathered kernels, or, in dense mode (LoraLinear),
 * y = x·W + u·B (+ bias): the "expand" half fused with the base matmul.
 */
export class LoraExpandProgram extends FlatProgram {
  shaderKey: string;
  variableNames: string[];

  constructor(
    private readonly mode: RowMode,
    outputShape: [number, number],
    private readonly hasBias = false,
  ) {
    super(outputShape);
    this.shaderKey = `loraExpand_${mode}${hasBias ? "_bias" : ""}`;
    this.variableNames =
      mode === "dense"
        ? ["x", "W", "u", "loraB", ...(hasBias ? ["bias"] : [])]
        : mode === "rows"
          ? ["u", "loraB", "rowAdapter"]
          : ["u", "loraB", "segStart", "segEnd", "segAdapter"];
  }

  getUserCode(): string {
    const base =
      this.mode === "dense"
        ? `let inF = uniforms.xShape.y;
          for (var p = 0; p < inF; p++) { acc = acc + x[i * inF + p] * W[p * outF + o]; }
          ${this.hasBias ? "acc = acc + bias[o];" : ""}`
        : "";
    const k = this.mode === "dense" ? "1" : "uniforms.loraBShape.x";
    return `
    fn main(index : i32) {
      if (index < uniforms.size) {
        let outF = uniforms.outShape.y;
        let i = index / outF;
        let o = index - i * outF;
        let r = uniforms.uShape.y;
        var acc = 0.0;
        ${base}
        ${rowAdapterSnippet(this.mode, false)}
        if (a >= 0 && a < ${k} && s != 0.0) {
          let bBase = a * r * outF + o;
          for (var j = 0; j < r; j++) {
            acc = acc + u[i * r + j] * loraB[bBase + j * outF];
          }
        }
        setOutputAtIndex(index, acc);
      }
    }`;
  }
}
