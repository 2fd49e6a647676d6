/** Worker side of bench:indexing: runs the real indexer off the main thread, as the extension does. */
import { parentPort, workerData } from 'node:worker_threads';
import { Workspace } from '../src/core/workspace/workspace.js';

const { corpus, storeDir } = workerData as { corpus: string; storeDir: string };

async function run(): Promise<void> {
  const workspace = new Workspace({
    folders: [{ name: 'corpus', root: corpus, storeDir }],
    createStores: true,
    embedder: 'default',
    device: 'cpu',
    indexing: { exclude: ['.done'], defaultExcludes: false },
  });
  try {
    const report = (await workspace.index())[0]!.report;
    parentPort!.postMessage({ report });
  } finally {
    await workspace.close();
  }
}

void run();
