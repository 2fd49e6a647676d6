/**
 * `docent serve --model <dir> [options]` (options and defaults: COMMAND_HELP.serve in help.ts).
 * Loads the decoder, serves the OpenAI-compatible API until SIGTERM/SIGINT, then drains
 * in-flight requests and returns 0. Bad arguments: exit code 2 and one line on stderr.
 */
import { describeDevice, type DeviceChoice } from '../core/onnx/session.js';
import { errorMessage } from '../core/errorMessage.js';
import type { Embedder } from '../core/types.js';
import { resolveEmbedder } from '../core/workspace/embedderChoice.js';
import { GenerationEngine } from '../generation/engine.js';
import { GenerationServer } from '../generation/httpServer.js';
import { deviceFlag, deviceIdFlag, integerFlag, parseFlags, UsageError } from './args.js';

interface Output {
  write(text: string): unknown;
}

export interface ServeArguments {
  model: string;
  embeddingModel?: string;
  port: number;
  host: string;
  /** Host names accepted besides the bound address (a reverse proxy's), each `name` or `name:port`. */
  allowHosts: string[];
  device: DeviceChoice;
  /** GPU index for CUDA and DirectML. */
  deviceId?: number;
  maxBatch: number;
  /** onnxruntime intra-op threads; undefined leaves onnxruntime's default (one per physical core). */
  threads?: number;
  apiKeyEnv?: string;
  /** Say on the first line why faster devices were passed over. */
  verbose: boolean;
}

export function parseServeArguments(argv: string[]): ServeArguments {
  const { values } = parseFlags(
    argv,
    {
      model: { type: 'string' },
      'embedding-model': { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      'allow-host': { type: 'string', multiple: true },
      device: { type: 'string' },
      'device-id': { type: 'string' },
      'max-batch': { type: 'string' },
      threads: { type: 'string' },
      'api-key-env': { type: 'string' },
      verbose: { type: 'boolean' },
    },
    { positionals: false },
  );
  if (!values.model) throw new UsageError('--model <dir> is required: the folder of an ONNX decoder export');
  const apiKeyEnv = values['api-key-env'];
  if (apiKeyEnv !== undefined && !process.env[apiKeyEnv]) throw new UsageError(`--api-key-env ${apiKeyEnv}: that environment variable is not set or empty`);
  return {
    model: values.model,
    embeddingModel: values['embedding-model'],
    port: integerFlag(values.port, '--port', 0, 65535, 8123),
    host: values.host ?? '127.0.0.1',
    allowHosts: (values['allow-host'] ?? []).map(allowedHost),
    device: deviceFlag(values.device),
    deviceId: deviceIdFlag(values['device-id']),
    maxBatch: integerFlag(values['max-batch'], '--max-batch', 1, 1024, 16),
    threads: integerFlag(values.threads, '--threads', 1, 1024),
    apiKeyEnv,
    verbose: values.verbose ?? false,
  };
}

/** A Host header value: a name or address, optionally `:port`; no scheme, path or wildcard. */
function allowedHost(value: string): string {
  if (!/^(\[[0-9a-f:.]+\]|[a-z0-9]([a-z0-9.-]*[a-z0-9])?)(:\d{1,5})?$/i.test(value)) {
    throw new UsageError(`--allow-host ${JSON.stringify(value)}: give the Host a client sends, e.g. llm.example.com or llm.example.com:8443 (no scheme, path or wildcard)`);
  }
  return value.toLowerCase();
}

export async function runServeCommand(argv: string[], io: { stdout: Output; stderr: Output } = process): Promise<number> {
  let args: ServeArguments;
  try {
    args = parseServeArguments(argv);
  } catch (error) {
    io.stderr.write(`docent serve: ${errorMessage(error)} (run "docent serve --help")\n`);
    return 2;
  }
  let embedder: Embedder | undefined;
  if (args.embeddingModel) {
    try {
      embedder = resolveEmbedder(args.embeddingModel, { device: args.device, deviceId: args.deviceId }).embedder;
    } catch (error) {
      io.stderr.write(`docent serve: cannot load embedding model ${args.embeddingModel}: ${errorMessage(error)}\n`);
      return 1;
    }
  }

  let engine: GenerationEngine;
  try {
    engine = await GenerationEngine.load(args.model, { device: args.device, deviceId: args.deviceId, maxBatch: args.maxBatch, intraOpThreads: args.threads });
  } catch (error) {
    io.stderr.write(`docent serve: cannot load model from ${args.model}: ${errorMessage(error)}\n`);
    await embedder?.dispose();
    return 1;
  }
  const server = new GenerationServer({ engine, embedder, apiKey: args.apiKeyEnv ? process.env[args.apiKeyEnv] : undefined, allowedHosts: args.allowHosts });
  let url: string;
  try {
    ({ url } = await server.listen(args.port, args.host));
  } catch (error) {
    io.stderr.write(`docent serve: cannot listen on ${args.host}:${args.port}: ${errorMessage(error)}\n`);
    await engine.dispose();
    await embedder?.dispose();
    return 1;
  }
  // The fallback reasons are no error: only asked for (and always in /health).
  const device = args.verbose ? engine.device : { ...engine.device, fallbackReasons: [] };
  io.stdout.write(`docent serve: model ${engine.modelId} on ${describeDevice(device)}\n`);
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
