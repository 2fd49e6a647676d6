/** Worker side of bench:indexing: runs the real indexer off the main thread, as the extension does. */
import { parentPort, workerData } from 'node:worker_threads';
import { createDefaultEmbedder } from '../src/core/embedding/defaultEmbedder.js';
import { indexFolder } from '../src/core/indexer.js';
import { DocStore } from '../src/core/store.js';

const { corpus, storeDir } = workerData as { corpus: string; storeDir: string };

async function run(): Promise<void> {
  const embedder = createDefaultEmbedder({ device: 'cpu' });
  try {
    const store = await DocStore.open(storeDir, { create: true });
    const report = await indexFolder(corpus, store, { embedder, embedderSpec: 'default', discovery: { exclude: ['.done'] } });
    parentPort!.postMessage({ report });
  } finally {
    await embedder.dispose();
  }
}

void run();
