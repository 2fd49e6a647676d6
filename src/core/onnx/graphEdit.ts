/**
 * Reading and extending an exported ONNX model without decoding its weights. A model file is a
 * protobuf ModelProto whose graph holds the initializers (often hundreds of megabytes); the
 * facts needed here (op types, opsets, input and output types) sit in small messages beside
 * them, so the reader walks the field tags and skips the initializers' bytes.
 *
 * Extending relies on protobuf's merge rule: a second occurrence of a message field is merged
 * into the first and repeated fields are appended, so `model + fragment` (see
 * OnnxGraphBuilder.encodeFragment) is the model with the fragment's nodes, initializers, inputs
 * and outputs added.
 */
import { dirname } from 'node:path';
import { onnx } from 'onnx-proto';
import { Reader } from 'protobufjs/minimal';

export interface ValueInfo {
  name: string;
  elemType: number;
  dims: Array<number | string>;
}

export interface GraphFacts {
  /** Op types of the main graph's nodes, as `domain:OpType` for non-default domains (com.microsoft:GroupQueryAttention). */
  opTypes: Set<string>;
  /** Opset version per domain ('' is the default ONNX domain). */
  opsets: Map<string, number>;
  inputs: ValueInfo[];
  outputs: ValueInfo[];
}

// Field numbers from onnx.proto.
const MODEL_GRAPH = 7;
const MODEL_OPSET_IMPORT = 8;
const GRAPH_NODE = 1;
const GRAPH_INPUT = 11;
const GRAPH_OUTPUT = 12;
const LENGTH_DELIMITED = 2;

export function readGraphFacts(model: Uint8Array): GraphFacts {
  const facts: GraphFacts = { opTypes: new Set(), opsets: new Map(), inputs: [], outputs: [] };
  forEachField(model, (field, reader, length) => {
    if (field === MODEL_OPSET_IMPORT) {
      const opset = onnx.OperatorSetIdProto.decode(reader, length);
      facts.opsets.set(opset.domain ?? '', toNumber(opset.version));
      return true;
    }
    if (field !== MODEL_GRAPH) return false;
    const graph = model.subarray(reader.pos, reader.pos + length);
    reader.pos += length;
    forEachField(graph, (graphField, graphReader, graphLength) => {
      if (graphField === GRAPH_NODE) {
        const node = onnx.NodeProto.decode(graphReader, graphLength);
        facts.opTypes.add(node.domain && node.domain !== 'ai.onnx' ? `${node.domain}:${node.opType}` : String(node.opType));
        return true;
      }
      if (graphField !== GRAPH_INPUT && graphField !== GRAPH_OUTPUT) return false;
      const info = onnx.ValueInfoProto.decode(graphReader, graphLength);
      (graphField === GRAPH_INPUT ? facts.inputs : facts.outputs).push(valueInfo(info));
      return true;
    });
    return true;
  });
  return facts;
}

/** The model with a fragment's graph merged in. */
export function withFragment(model: Uint8Array, fragment: Uint8Array): Uint8Array {
  const merged = new Uint8Array(model.byteLength + fragment.byteLength);
  merged.set(model, 0);
  merged.set(fragment, model.byteLength);
  return merged;
}

/**
 * Session options a model loaded from bytes needs to find its external weights (model.onnx.data
 * and the like), which onnxruntime otherwise resolves relative to the model file's folder.
 */
export function externalDataOptions(modelPath: string): { extra: Record<string, unknown> } {
  return { extra: { session: { model_external_initializers_file_folder_path: dirname(modelPath) } } };
}

/**
 * Calls `visit(field, reader, length)` for each length-delimited field; `visit` returns true
 * when it consumed the field's bytes. Other fields are skipped.
 */
function forEachField(bytes: Uint8Array, visit: (field: number, reader: Reader, length: number) => boolean): void {
  const reader = Reader.create(bytes);
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    const field = tag >>> 3;
    const wireType = tag & 7;
    if (wireType !== LENGTH_DELIMITED) {
      reader.skipType(wireType);
      continue;
    }
    const length = reader.uint32();
    const end = reader.pos + length;
    if (!visit(field, reader, length)) reader.pos = end;
    else if (reader.pos !== end) reader.pos = end;
  }
}

function valueInfo(info: onnx.ValueInfoProto): ValueInfo {
  const tensor = info.type?.tensorType;
  return {
    name: info.name,
    elemType: Number(tensor?.elemType ?? 0),
    dims: (tensor?.shape?.dim ?? []).map((dim) => (dim.dimParam ? dim.dimParam : toNumber(dim.dimValue))),
  };
}

/** protobufjs hands int64 fields over as numbers, or as Long objects when the `long` package is installed. */
function toNumber(value: number | { toNumber(): number } | null | undefined): number {
  if (value === null || value === undefined) return 0;
  return typeof value === 'number' ? value : value.toNumber();
}
