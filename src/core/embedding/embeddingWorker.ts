/**
 * Worker-thread entry point of OnnxEmbedder: owns one EmbeddingRunner (one ONNX session) and
 * embeds the batches the pool sends it. Bundled to dist/embeddingWorker.js.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { DeviceUnavailableError } from '../onnx/session.js';
import { EmbeddingRunner } from './embeddingRunner.js';
import type { PoolRequest, PoolResponse, WorkerInit } from './workerProtocol.js';
import { errorMessage } from '../errorMessage.js';
import { monotonicMs } from '../clock.js';

const port = parentPort!;
const { spec, runner: runnerOptions } = workerData as WorkerInit;

function send(message: PoolResponse, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
}

EmbeddingRunner.create(spec, runnerOptions).then(
  (runner) => {
    send({ type: 'ready', activeDevice: runner.activeDevice });
    port.on('message', (request: PoolRequest) => {
      if (request.type === 'close') {
        runner.dispose().finally(() => port.close());
        return;
      }
      const started = monotonicMs();
      runner.embed(request.texts).then(
        ({ vectors, tokens }) =>
          send(
            { type: 'result', jobId: request.jobId, vectors, tokens, computeMs: monotonicMs() - started },
            vectors.map((vector) => vector.buffer as ArrayBuffer),
          ),
        (error: unknown) => send({ type: 'error', jobId: request.jobId, message: errorMessage(error) }),
      );
    });
  },
  (error: unknown) => {
    send({
      type: 'failed',
      message: errorMessage(error),
      unavailableProvider: error instanceof DeviceUnavailableError ? error.provider : undefined,
      cause: error instanceof DeviceUnavailableError ? errorMessage(error.cause) : undefined,
    });
    port.close();
  },
);
