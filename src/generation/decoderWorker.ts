/**
 * Worker-thread entry point of the generation engine's decoder (decoderRuntime.ts). Requests
 * are handled strictly in the order they arrive, so a release never overtakes the step that
 * used the sequence. Bundled to dist/decoderWorker.js.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { serializeError, type WorkerRequest, type WorkerResponse } from './decoderPort.js';
import { DecoderRuntime, type RuntimeInit } from './decoderRuntime.js';

const port = parentPort!;

function send(message: WorkerResponse): void {
  port.postMessage(message);
}

DecoderRuntime.load(workerData as RuntimeInit).then(
  (runtime) => {
    send({ type: 'ready', info: runtime.info });
    let queue = Promise.resolve();
    port.on('message', (request: WorkerRequest) => {
      queue = queue.then(async () => {
        switch (request.type) {
          case 'admit':
            return runtime.admit(request.id, request.sampling);
          case 'release':
            return runtime.release(request.ids);
          case 'close':
            await runtime.dispose();
            return port.close();
          case 'prefill':
          case 'decode':
            try {
              const result = request.type === 'prefill' ? await runtime.prefill(request.rows) : await runtime.decode(request.rows);
              send({ type: 'done', call: request.call, result });
            } catch (error) {
              send({ type: 'error', call: request.call, error: serializeError(error) });
            }
        }
      });
    });
  },
  (error: unknown) => {
    send({ type: 'failed', error: serializeError(error) });
    port.close();
  },
);
