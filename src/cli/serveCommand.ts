/**
 * `docent serve --model <dir> [--embedding-model default|<dir>] [--port 8123] [--host 127.0.0.1]
 * [--device auto|cpu|cuda|webgpu|dml|coreml] [--device-id N] [--max-batch 16] [--threads N] [--api-key-env NAME]`
 * Loads the decoder, serves the OpenAI-compatible API until SIGTERM/SIGINT, then drains
 * in-flight requests and returns 0. Bad arguments: exit code 2 and one line on stderr.
 */
import { describeDevice, isDeviceChoice, DEVICE_CHOICES, type DeviceChoice } from '../core/onnx/session.js';
import { GenerationEngine } from '../generation/engine.js';
import { GenerationServer } from '../generation/httpServer.js';
import { createDefaultEmbedder } from '../core/embedding/defaultEmbedder.js';
import { readModelFolder } from '../core/embedding/modelSpec.js';
import { OnnxEmbedder } from '../core/embedding/onnxEmbedder.js';
import type { Embedder } from '../core/types.js';

interface Output {
  write(text: string): unknown;
}

export interface ServeArguments {
  model: string;
  embeddingModel?: string;
  port: number;
  host: string;
  device: DeviceChoice;
  /** GPU index for CUDA and DirectML. */
  deviceId?: number;
  maxBatch: number;
  /** onnxruntime intra-op threads; undefined leaves onnxruntime's default (one per physical core). */
  threads?: number;
  apiKeyEnv?: string;
}

export class UsageError extends Error {
  override name = 'UsageError';
}

const USAGE = `usage: docent serve --model <dir> [--embedding-model default|<dir>] [--port 8123] [--host 127.0.0.1] [--device ${DEVICE_CHOICES.join('|')}] [--device-id N] [--max-batch 16] [--threads N] [--api-key-env NAME]`;

export function parseServeArguments(argv: string[]): ServeArguments {
  const values = new Map<string, string>();
  const known = ['--model', '--embedding-model', '--port', '--host', '--device', '--device-id', '--max-batch', '--threads', '--api-key-env'];
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i]!.split(/=(.*)/s, 2) as [string, string | undefined];
    if (!known.includes(flag)) throw new UsageError(`unknown argument "${argv[i]}"; ${USAGE}`);
    const value = inline ?? argv[++i];
    if (value === undefined || (inline === undefined && value.startsWith('--'))) throw new UsageError(`${flag} needs a value`);
    values.set(flag, value);
  }
  const model = values.get('--model');
  if (!model) throw new UsageError(`--model <dir> is required; ${USAGE}`);
  const port = integer(values.get('--port') ?? '8123', '--port', 0, 65535);
  const maxBatch = integer(values.get('--max-batch') ?? '16', '--max-batch', 1, 1024);
  const threadsText = values.get('--threads');
  const threads = threadsText === undefined ? undefined : integer(threadsText, '--threads', 1, 1024);
  const device = values.get('--device') ?? 'auto';
  if (!isDeviceChoice(device)) throw new UsageError(`--device must be one of ${DEVICE_CHOICES.join(', ')}, not "${device}"`);
  const deviceIdText = values.get('--device-id');
  const deviceId = deviceIdText === undefined ? undefined : integer(deviceIdText, '--device-id', 0, 64);
  const apiKeyEnv = values.get('--api-key-env');
  if (apiKeyEnv !== undefined && !process.env[apiKeyEnv]) throw new UsageError(`--api-key-env ${apiKeyEnv}: that environment variable is not set or empty`);
  return { model, embeddingModel: values.get('--embedding-model'), port, host: values.get('--host') ?? '127.0.0.1', device, deviceId, maxBatch, threads, apiKeyEnv };
}

function integer(text: string, flag: string, min: number, max: number): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > max) throw new UsageError(`${flag} must be an integer from ${min} to ${max}, not "${text}"`);
  return value;
}

export async function runServeCommand(argv: string[], io: { stdout: Output; stderr: Output } = process): Promise<number> {
  let args: ServeArguments;
  try {
    args = parseServeArguments(argv);
  } catch (error) {
    io.stderr.write(`docent serve: ${error instanceof Error ? error.message : String(error)}\n`);
    return 2;
  }
  let embedder: Embedder | undefined;
  if (args.embeddingModel) {
    try {
      embedder =
        args.embeddingModel === 'default'
          ? createDefaultEmbedder({ device: args.device, deviceId: args.deviceId })
          : new OnnxEmbedder(readModelFolder(args.embeddingModel), { device: args.device, deviceId: args.deviceId });
    } catch (error) {
      io.stderr.write(`docent serve: cannot load embedding model ${args.embeddingModel}: ${error instanceof Error ? error.message : String(error)}\n`);
      return 1;
    }
  }

  let engine: GenerationEngine;
  try {
    engine = await GenerationEngine.load(args.model, { device: args.device, deviceId: args.deviceId, maxBatch: args.maxBatch, intraOpThreads: args.threads });
  } catch (error) {
    io.stderr.write(`docent serve: cannot load model from ${args.model}: ${error instanceof Error ? error.message : String(error)}\n`);
    await embedder?.dispose();
    return 1;
  }
  const server = new GenerationServer({ engine, embedder, apiKey: args.apiKeyEnv ? process.env[args.apiKeyEnv] : undefined });
  let url: string;
  try {
    ({ url } = await server.listen(args.port, args.host));
  } catch (error) {
    io.stderr.write(`docent serve: cannot listen on ${args.host}:${args.port}: ${error instanceof Error ? error.message : String(error)}\n`);
    await engine.dispose();
    await embedder?.dispose();
    return 1;
  }
  io.stdout.write(`docent serve: model ${engine.modelId} on ${describeDevice(engine.device)}\n`);
  io.stdout.write(`docent serve: listening on ${url}/v1${args.apiKeyEnv ? ` (bearer key from $${args.apiKeyEnv})` : ''}\n`);

  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    const onSignal = (name: NodeJS.Signals) => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      resolve(name);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  io.stdout.write(`docent serve: ${signal}, finishing in-flight requests\n`);
  await server.close();
  await engine.dispose();
  await embedder?.dispose();
  io.stdout.write('docent serve: stopped\n');
  return 0;
}
