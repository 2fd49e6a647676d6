/**
 * How much longer a decode step's matmuls take at batch 8 than at batch 1 on this CPU, per weight
 * format and intra-op thread count: the bound on what batching can win here, without a decoder
 * or a scheduler around it. A chain of `pairs` × (K×N, N×K) linear layers, weights as
 * - fp32: plain MatMul (onnxruntime prepacks the constant weights);
 * - int8: com.microsoft DynamicQuantizeMatMul (per-column weight scales; u8s8 VNNI kernels). It
 *   quantizes the activations with ONE scale per call, so a row's result depends on the other
 *   rows in its batch: a decoder built this way gives different greedy tokens batched and solo;
 * - int4: com.microsoft MatMulNBits, 4 bits, block 32, accuracy_level 4 (int8 compute), the format
 *   of onnxruntime-genai's CPU int4 exports.
 * Batch sizes take turns within a round so noise from other processes hits them alike; medians.
 *
 *   node --import tsx bench/matmulBatching.ts [--formats fp32,int8,int4] [--threads 1,2] [--k 2048] [--n 8192] [--pairs 4]
 */
import * as ort from 'onnxruntime-node';
import { onnx } from 'onnx-proto';
import { seededRandom } from '../src/core/seededRandom.js';
import { medianRunMs } from './sessionTiming.js';

type WeightFormat = 'fp32' | 'int8' | 'int4';

const TYPE = onnx.TensorProto.DataType;
const BLOCK = 32;
const BATCHES = [1, 8, 16];

function bytes(values: ArrayBufferView): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

function intAttribute(name: string, i: number): onnx.IAttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.INT, i };
}

/** Random weights: their values do not change the kernels' speed, only their format does. */
function linearNode(format: WeightFormat, input: string, output: string, name: string, k: number, n: number, random: () => number): { node: onnx.INodeProto; initializers: onnx.ITensorProto[] } {
  if (format === 'fp32') {
    const weights = Float32Array.from({ length: k * n }, () => (random() - 0.5) * 0.02);
    return { node: { opType: 'MatMul', name, input: [input, name], output: [output] }, initializers: [{ name, dims: [k, n], dataType: TYPE.FLOAT, rawData: bytes(weights) }] };
  }
  if (format === 'int8') {
    const weights = Int8Array.from({ length: k * n }, () => Math.floor(random() * 255) - 127);
    return {
      node: { opType: 'DynamicQuantizeMatMul', domain: 'com.microsoft', name, input: [input, name, `${name}.scale`], output: [output] },
      initializers: [
        { name, dims: [k, n], dataType: TYPE.INT8, rawData: bytes(weights) },
        { name: `${name}.scale`, dims: [n], dataType: TYPE.FLOAT, rawData: bytes(new Float32Array(n).fill(1e-4)) },
      ],
    };
  }
  const blocks = k / BLOCK;
  const packed = Uint8Array.from({ length: (n * blocks * BLOCK) / 2 }, () => Math.floor(random() * 256));
  return {
    node: {
      opType: 'MatMulNBits',
      domain: 'com.microsoft',
      name,
      input: [input, name, `${name}.scale`],
      output: [output],
      attribute: [intAttribute('K', k), intAttribute('N', n), intAttribute('bits', 4), intAttribute('block_size', BLOCK), intAttribute('accuracy_level', 4)],
    },
    initializers: [
      { name, dims: [n, blocks, BLOCK / 2], dataType: TYPE.UINT8, rawData: packed },
      { name: `${name}.scale`, dims: [n * blocks], dataType: TYPE.FLOAT, rawData: bytes(new Float32Array(n * blocks).fill(1e-3)) },
    ],
  };
}

function buildModel(format: WeightFormat, k: number, n: number, pairs: number): Uint8Array {
  const random = seededRandom(7);
  const nodes: onnx.INodeProto[] = [];
  const initializers: onnx.ITensorProto[] = [];
  let x = 'x';
  for (let p = 0; p < pairs; p++) {
    const hidden = `h${p}`;
    const out = p === pairs - 1 ? 'y' : `x${p + 1}`;
    for (const layer of [linearNode(format, x, hidden, `up${p}`, k, n, random), linearNode(format, hidden, out, `down${p}`, n, k, random)]) {
      nodes.push(layer.node);
      initializers.push(...layer.initializers);
    }
    x = out;
  }
  const io = (name: string): onnx.IValueInfoProto => ({
    name,
    type: { tensorType: { elemType: TYPE.FLOAT, shape: { dim: [{ dimParam: 'batch' }, { dimValue: k }] } } },
  });
  const model: onnx.IModelProto = {
    irVersion: 8,
    opsetImport: [
      { domain: '', version: 17 },
      { domain: 'com.microsoft', version: 1 },
    ],
    graph: { name: 'matmuls', node: nodes, initializer: initializers, input: [io('x')], output: [io('y')] },
  };
  return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
}

async function medianStepMs(model: Uint8Array, k: number, threads: number): Promise<number[]> {
  const session = await ort.InferenceSession.create(model, { intraOpNumThreads: threads, graphOptimizationLevel: 'all', logSeverityLevel: 3 });
  try {
    const feeds = BATCHES.map((batch) => ({ x: new ort.Tensor('float32', new Float32Array(batch * k).fill(0.1), [batch, k]) }));
    return await medianRunMs(session, feeds, 11);
  } finally {
    await session.release();
  }
}

function listFlag(argv: string[], name: string): string[] | undefined {
  const at = argv.indexOf(name);
  return at >= 0 ? argv[at + 1]!.split(',') : undefined;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const formats = (listFlag(argv, '--formats') ?? ['fp32', 'int8', 'int4']) as WeightFormat[];
  const threadCounts = (listFlag(argv, '--threads') ?? ['1', '2']).map(Number);
  const [k, n, pairs] = ['--k', '--n', '--pairs'].map((flag, i) => Number(listFlag(argv, flag)?.[0] ?? [2048, 8192, 4][i]));
  const params = 2 * pairs * k * n;
  console.log(`${pairs} × (${k}×${n}, ${n}×${k}) linear layers: ${(params / 1e6).toFixed(0)}M weights; median ms per run`);
  console.log('format | weight MB | threads | batch 1 | batch 8 | batch 16 | batch 8 / batch 1 | batch-8 GFLOP/s');
  console.log('------ | --------- | ------- | ------- | ------- | -------- | ----------------- | ---------------');
  for (const format of formats) {
    const model = buildModel(format, k, n, pairs);
    for (const threads of threadCounts) {
      const [one, eight, sixteen] = await medianStepMs(model, k, threads);
      console.log(
        [
          format,
          (model.byteLength / 1e6).toFixed(0),
          threads,
          one!.toFixed(1),
          eight!.toFixed(1),
          sixteen!.toFixed(1),
          `${(eight! / one!).toFixed(2)}×`,
          ((2 * 8 * params) / eight! / 1e6).toFixed(0),
        ].join(' | '),
      );
    }
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
