/** Messages between OnnxEmbedder and its embedding workers. */
import type { ActiveDevice } from '../onnx/session.js';
import type { RunnerOptions } from './embeddingRunner.js';
import type { EmbeddingModelSpec } from './modelSpec.js';

export interface WorkerInit {
  spec: EmbeddingModelSpec;
  runner: RunnerOptions;
}

export type PoolRequest = { type: 'embed'; jobId: number; texts: string[] } | { type: 'close' };

export type PoolResponse =
  | { type: 'ready'; activeDevice: ActiveDevice }
  /** The session could not be created; `unavailableProvider` is set for an explicit GPU choice that failed. */
  | { type: 'failed'; message: string; unavailableProvider?: string; cause?: string }
  | { type: 'result'; jobId: number; vectors: Float32Array[]; tokens: number; computeMs: number }
  | { type: 'error'; jobId: number; message: string };
