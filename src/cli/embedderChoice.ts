/**
 * Which Embedder the CLI builds. A store records the `spec` it was built with, so `query`
 * re-creates the same embedder; `--embedder` picks one for `index`.
 */
import { existsSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { createDefaultEmbedder } from '../core/embedding/defaultEmbedder.js';
import { HashingEmbedder } from '../core/embedding/hashingEmbedder.js';
import { readModelFolder } from '../core/embedding/modelSpec.js';
import { OnnxEmbedder } from '../core/embedding/onnxEmbedder.js';
import type { DeviceRequest } from '../core/onnx/session.js';
import type { Embedder } from '../core/types.js';
import { UsageError } from './usageError.js';

export const EMBEDDER_HELP = 'default|hashing|none|<model folder>';

export interface EmbedderChoice {
  embedder: Embedder | undefined;
  /** What to record in the store so the same embedder can be made again. */
  spec: string;
}

export function createEmbedder(spec: string | undefined, request: DeviceRequest): EmbedderChoice {
  const device = { device: request.choice, deviceId: request.deviceId };
  const name = spec ?? 'default';
  if (name === 'none') return { embedder: undefined, spec: name };
  if (name === 'hashing') return { embedder: new HashingEmbedder(), spec: name };
  if (name === 'default') return { embedder: createDefaultEmbedder(device), spec: name };
  const folder = path.resolve(name);
  if (existsSync(folder) && statSync(folder).isDirectory()) {
    try {
      return { embedder: new OnnxEmbedder(readModelFolder(folder), device), spec: folder };
    } catch (error) {
      throw new UsageError(`--embedder ${name}: ${(error as Error).message}`);
    }
  }
  throw new UsageError(`unknown embedder "${name}" (choose ${EMBEDDER_HELP})`);
}
