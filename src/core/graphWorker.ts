/** Worker-thread entry point of buildGraphFile (vectorIndex.ts). Bundled to dist/graphWorker.js. */
import { parentPort, workerData } from 'node:worker_threads';
import { errorMessage } from './errorMessage.js';
import { HnswVectorIndex, type GraphJob, type GraphWorkerMessage } from './vectorIndex.js';

const job = workerData as GraphJob;
const send = (message: GraphWorkerMessage): void => parentPort!.postMessage(message);

void (async () => {
  try {
    const graph = HnswVectorIndex.build(job.dimensions, job.labels, job.rows, job.options, {
      onAdded: (added) => send({ type: 'progress', added }),
      stopped: () => Atomics.load(job.stop, 0) === 1,
    });
    send({ type: 'written', checksum: await graph.writeUnplaced(job.tempPath) });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException | null)?.code;
    send({ type: 'failed', message: errorMessage(error), ...(code === undefined ? {} : { code }) });
  }
})();
