import { ProtoWriter } from "./protobuf.js";

/** ONNX element types used here (TensorProto.DataType). */
const FLOAT = 1;
const INT64 = 7;

export type Attr = { i: number } | { f: number } | { ints: number[] } | { s: string };

/**
 * Builds an ONNX model (one graph, default domain) op by op and serializes it to ModelProto bytes that
 * onnxruntime loads: field numbers are those of onnx.proto.
 */
export class OnnxGraph {
  private readonly nodes: ProtoWriter[] = [];
  private readonly inits: ProtoWriter[] = [];
  private readonly inputs: ProtoWriter[] = [];
  private readonly outputs: ProtoWriter[] = [];
  private count = 0;

  input(name: string, dims: Array<number | string>, type: "float32" | "int64" = "float32"): string {
    this.inputs.push(valueInfo(name, dims, type === "float32" ? FLOAT : INT64));
    return name;
  }

  output(name: string, dims: Array<number | string>): void {
    this.outputs.push(valueInfo(name, dims, FLOAT));
  }

  /** A constant (initializer) tensor. */
  init(name: string, dims: number[], data: Float32Array | BigInt64Array): string {
    const t = new ProtoWriter();
    for (const d of dims) t.int(1, d);
    t.int(2, data instanceof Float32Array ? FLOAT : INT64).string(8, name);
    t.bytes(9, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    this.inits.push(t);
    return name;
  }

  ints(name: string, values: number[]): string {
    return this.init(name, [values.length], BigInt64Array.from(values.map(BigInt)));
  }

  /** Adds a node; returns its output names (`outputs` of them, or the names given). */
  op(type: string, inputs: string[], attrs: Record<string, Attr> = {}, outputs: number | string[] = 1): string[] {
    const names = Array.isArray(outputs) ? outputs : Array.from({ length: outputs }, () => `t${this.count++}`);
    const n = new ProtoWriter();
    for (const i of inputs) n.string(1, i);
    for (const o of names) n.string(2, o);
    n.string(3, `n${this.count++}`).string(4, type);
    for (const [name, a] of Object.entries(attrs)) {
      const w = new ProtoWriter().string(1, name);
      if ("f" in a) w.float(2, a.f).int(20, 1);
      else if ("i" in a) w.int(3, a.i).int(20, 2);
      else if ("s" in a) w.bytes(4, new TextEncoder().encode(a.s)).int(20, 3);
      else {
        for (const v of a.ints) w.int(8, v);
        w.int(20, 7);
      }
      n.message(5, w);
    }
    this.nodes.push(n);
    return names;
  }

  /** One-output node. */
  op1(type: string, inputs: string[], attrs: Record<string, Attr> = {}, output?: string): string {
    return this.op(type, inputs, attrs, output ? [output] : 1)[0] as string;
  }

  toBytes(opset = 20): Uint8Array {
    const g = new ProtoWriter();
    for (const n of this.nodes) g.message(1, n);
    g.string(2, "graph");
    for (const t of this.inits) g.message(5, t);
    for (const i of this.inputs) g.message(11, i);
    for (const o of this.outputs) g.message(12, o);
    const m = new ProtoWriter().int(1, 9).string(2, "lowrank-bench");
    m.message(7, g);
    m.message(8, new ProtoWriter().string(1, "").int(2, opset));
    return m.finish();
  }
}

function valueInfo(name: string, dims: Array<number | string>, elem: number): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of dims)
    shape.message(1, typeof d === "number" ? new ProtoWriter().int(1, d) : new ProtoWriter().string(2, d));
  const tensor = new ProtoWriter().int(1, elem).message(2, shape);
  return new ProtoWriter().string(1, name).message(2, new ProtoWriter().message(1, tensor));
}
