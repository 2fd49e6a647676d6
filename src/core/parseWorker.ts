/** Worker-thread entry point of workerParser (fileParser.ts). Bundled to dist/parseWorker.js. */
import { parentPort, workerData } from 'node:worker_threads';
import type { ChunkingOptions } from './chunker.js';
import { parseFile, type ParseRequest, type ParseResponse } from './fileParser.js';

const port = parentPort!;
const chunking = workerData as ChunkingOptions;

port.on('message', ({ job, path, text }: ParseRequest) => {
  port.postMessage({ job, parsed: parseFile(path, text, chunking) } satisfies ParseResponse);
});
