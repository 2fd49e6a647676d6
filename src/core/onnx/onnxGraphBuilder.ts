/**
 * A small ONNX graph builder over onnx-proto. It writes whole models (the default-model build,
 * the test models, the KV-cache reshaping graphs of the generation engine) and graph fragments
 * that are merged into a model someone else exported (pooling inside an embedding model,
 * last-token logits of a decoder: see graphEdit.ts).
 */
import { onnx } from 'onnx-proto';

export const TensorType = onnx.TensorProto.DataType;
export type TensorTypeValue = onnx.TensorProto.DataType;
type Dim = number | string;

export type AttributeValue = number | number[] | { float: number } | { string: string };

const OPSET = 17;
const IR_VERSION = 8;

export interface GraphBuilderOptions {
  /** Prefix of generated names, so a fragment never collides with the graph it is merged into. */
  prefix?: string;
}

export class OnnxGraphBuilder {
  private readonly nodes: onnx.INodeProto[] = [];
  private readonly initializers: onnx.ITensorProto[] = [];
  private readonly inputs: onnx.IValueInfoProto[] = [];
  private readonly outputs: onnx.IValueInfoProto[] = [];
  private readonly domains = new Map<string, number>([['', OPSET]]);
  private readonly prefix: string;
  private nextName = 0;

  constructor(options: GraphBuilderOptions = {}) {
    this.prefix = options.prefix ?? '';
  }

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

  int64s(values: number[], dims: number[] = [values.length]): string {
    return this.constant(TensorType.INT64, dims, BigInt64Array.from(values.map(BigInt)));
  }

  /** Adds a node and returns its (first) output name. */
  op(opType: string, inputs: string[], attributes: Record<string, AttributeValue> = {}, output = this.fresh(opType)): string {
    return this.node(opType, inputs, [output], attributes)[0]!;
  }

  /** Adds a node with several outputs (in `domain`, e.g. com.microsoft at opset 1) and returns them. */
  node(opType: string, inputs: string[], outputs: string[], attributes: Record<string, AttributeValue> = {}, domain?: { name: string; version: number }): string[] {
    if (domain) this.domains.set(domain.name, domain.version);
    this.nodes.push({
      opType,
      domain: domain?.name,
      input: inputs,
      output: outputs,
      name: this.fresh(`${opType}_node`),
      attribute: Object.entries(attributes).map(([name, value]) => attribute(name, value)),
    });
    return outputs;
  }

  encode(docString = ''): Uint8Array {
    const model: onnx.IModelProto = {
      irVersion: IR_VERSION,
      producerName: 'docent',
      docString,
      opsetImport: [...this.domains].map(([domain, version]) => ({ domain, version })),
      graph: { name: 'main', node: this.nodes, initializer: this.initializers, input: this.inputs, output: this.outputs },
    };
    return onnx.ModelProto.encode(model).finish();
  }

  /**
   * Only the graph's nodes, initializers, inputs and outputs, as a ModelProto with nothing else
   * set. Protobuf parsers merge a repeated occurrence of a message field into the first one
   * (repeated fields are appended), so `model bytes + fragment` is the model with this graph
   * added: no decoding and re-encoding of weights that may be gigabytes.
   */
  encodeFragment(): Uint8Array {
    return onnx.ModelProto.encode({ graph: { node: this.nodes, initializer: this.initializers, input: this.inputs, output: this.outputs } }).finish();
  }

  fresh(stem: string): string {
    return `${this.prefix}${stem}_${this.nextName++}`;
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
  const type = onnx.AttributeProto.AttributeType;
  if (Array.isArray(value)) return { name, type: type.INTS, ints: value };
  if (typeof value === 'number') return { name, type: type.INT, i: value };
  if ('string' in value) return { name, type: type.STRING, s: new TextEncoder().encode(value.string) };
  return { name, type: type.FLOAT, f: value.float };
}
