/**
 * A small ONNX graph builder over onnx-proto. Build-time and test-time only: the default-model
 * build script and the test models use it; runtime code never imports it (onnx-proto is a
 * devDependency).
 */
import { onnx } from 'onnx-proto';

export const TensorType = onnx.TensorProto.DataType;
type TensorTypeValue = onnx.TensorProto.DataType;
type Dim = number | string;

export type AttributeValue = number | number[] | { float: number };

const OPSET = 17;
const IR_VERSION = 8;

export class OnnxGraphBuilder {
  private readonly nodes: onnx.INodeProto[] = [];
  private readonly initializers: onnx.ITensorProto[] = [];
  private readonly inputs: onnx.IValueInfoProto[] = [];
  private readonly outputs: onnx.IValueInfoProto[] = [];
  private nextName = 0;

  input(name: string, type: TensorTypeValue, dims: Dim[]): string {
    this.inputs.push(valueInfo(name, type, dims));
    return name;
  }

  output(name: string, type: TensorTypeValue, dims: Dim[]): void {
    this.outputs.push(valueInfo(name, type, dims));
  }

  /** A constant tensor. `data` holds the values in the element type's own layout (little-endian). */
  constant(type: TensorTypeValue, dims: number[], data: ArrayBufferView, name = this.fresh('const')): string {
    const rawData = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    this.initializers.push({ name, dataType: type, dims, rawData });
    return name;
  }

  floats(dims: number[], values: ArrayLike<number>, name?: string): string {
    return this.constant(TensorType.FLOAT, dims, Float32Array.from(values), name);
  }

  int64s(values: number[]): string {
    return this.constant(TensorType.INT64, [values.length], BigInt64Array.from(values.map(BigInt)));
  }

  /** Adds a node and returns its (first) output name. */
  op(opType: string, inputs: string[], attributes: Record<string, AttributeValue> = {}, output = this.fresh(opType)): string {
    this.nodes.push({
      opType,
      input: inputs,
      output: [output],
      name: this.fresh(`${opType}_node`),
      attribute: Object.entries(attributes).map(([name, value]) => attribute(name, value)),
    });
    return output;
  }

  encode(docString = ''): Uint8Array {
    const model: onnx.IModelProto = {
      irVersion: IR_VERSION,
      producerName: 'docent',
      docString,
      opsetImport: [{ domain: '', version: OPSET }],
      graph: { name: 'main', node: this.nodes, initializer: this.initializers, input: this.inputs, output: this.outputs },
    };
    return onnx.ModelProto.encode(model).finish();
  }

  private fresh(prefix: string): string {
    return `${prefix}_${this.nextName++}`;
  }
}

function valueInfo(name: string, elemType: TensorTypeValue, dims: Dim[]): onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((dim) => (typeof dim === 'number' ? { dimValue: dim } : { dimParam: dim })) },
      },
    },
  };
}

function attribute(name: string, value: AttributeValue): onnx.IAttributeProto {
  if (Array.isArray(value)) return { name, type: onnx.AttributeProto.AttributeType.INTS, ints: value };
  if (typeof value === 'number') return { name, type: onnx.AttributeProto.AttributeType.INT, i: value };
  return { name, type: onnx.AttributeProto.AttributeType.FLOAT, f: value.float };
}
