/**
 * bench:indexing — the whole PostgreSQL manual indexed with the default model, measuring the
 * MAIN thread's event-loop lag (perf_hooks.monitorEventLoopDelay) while it runs: (a) the indexer
 * in a worker thread, as the extension runs it, and (b) in-process, as the CLI runs it. Also
 * Docent's end-to-end indexing throughput against Continue's embedding method (one chunk at a
 * time with a 10 ms pause) on the same chunks and model.
 */
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { createDefaultEmbedder } from '../src/core/embedding/defaultEmbedder.js';
import { embeddingTextOf } from '../src/core/chunkText.js';
import type { IndexReport } from '../src/core/indexer.js';
import { Workspace } from '../src/core/workspace/workspace.js';
import { formatTable, writeResults } from './report.js';
import { loadEvalSets } from './retrieval.js';

interface LagRun {
  mode: string;
  seconds: number;
  chunks: number;
  lagP50Ms: number;
  lagP99Ms: number;
  lagMaxMs: number;
}

async function withLagMonitor(mode: string, run: () => Promise<IndexReport>): Promise<LagRun> {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  const started = performance.now();
  const report = await run();
  const seconds = (performance.now() - started) / 1000;
  histogram.disable();
  const ms = (ns: number) => ns / 1e6;
  return { mode, seconds, chunks: report.chunks, lagP50Ms: ms(histogram.percentile(50)), lagP99Ms: ms(histogram.percentile(99)), lagMaxMs: ms(histogram.max) };
}

function inWorker(corpus: string, storeDir: string): Promise<IndexReport> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(path.join(__dirname, 'indexingWorker.ts'), { workerData: { corpus, storeDir }, execArgv: ['--require', 'tsx/cjs'] });
    worker.once('message', (message: { report: IndexReport }) => resolve(message.report));
    worker.once('error', reject);
    worker.once('exit', (code) => (code === 0 ? undefined : reject(new Error(`index worker exited with ${code}`))));
  });
}

export async function runBench(): Promise<unknown> {
  const sets = await loadEvalSets(['postgres']);
  if (typeof sets === 'string') {
    console.log(`bench:indexing skipped: ${sets}`);
    return { skipped: sets };
  }
  const corpus = sets.find((set) => set.name === 'postgres')!.corpus;
  const scratch = await fs.mkdtemp(path.join(tmpdir(), 'docent-bench-indexing-'));
  try {
    const runs: LagRun[] = [];
    runs.push(await withLagMonitor('indexer in a worker thread (extension)', () => inWorker(corpus, path.join(scratch, 'worker'))));
    const embedder = createDefaultEmbedder({ device: 'cpu' });
    const workspace = new Workspace(
      { folders: [{ name: 'postgres', root: corpus, storeDir: path.join(scratch, 'main') }], createStores: true, indexing: { exclude: ['.done'], defaultExcludes: false } },
      { embedder },
    );
    runs.push(await withLagMonitor('indexer on the main thread (CLI)', async () => (await workspace.index())[0]!.report));
    // Continue's method on the same chunks and model: one chunk per call, 10 ms apart.
    const texts = (await workspace.chunks()).map(embeddingTextOf);
    await workspace.close();
    const sample = texts.slice(0, 2000);
    const started = performance.now();
    for (const text of sample) {
      await embedder.embed([text]);
      await sleep(10);
    }
    const continueSeconds = ((performance.now() - started) / 1000) * (texts.length / sample.length);
    await embedder.dispose();

    const docent = runs[0]!;
    const speedup = continueSeconds / docent.seconds;
    console.log(
      formatTable(
        ['mode', 'seconds', 'chunks', 'chunks/s', 'main lag p50 ms', 'main lag p99 ms', 'max ms'],
        runs.map((run) => [run.mode, run.seconds.toFixed(1), String(run.chunks), (run.chunks / run.seconds).toFixed(0), run.lagP50Ms.toFixed(1), run.lagP99Ms.toFixed(1), run.lagMaxMs.toFixed(1)]),
      ),
    );
    console.log(
      `\nContinue's method (embedding only, 1 chunk + 10 ms pause; ${sample.length} of ${texts.length} chunks timed, extrapolated): ` +
        `${continueSeconds.toFixed(1)} s → Docent's whole pipeline (discover, parse, chunk, embed, index, commit) is ×${speedup.toFixed(1)} faster`,
    );
    const output = { corpus: 'postgres', runs, continueSeconds, continueSampleChunks: sample.length, speedupOverContinue: speedup };
    await writeResults('indexing', output);
    return output;
  } finally {
    await fs.rm(scratch, { recursive: true, force: true });
  }
}

if (process.argv[1]?.endsWith('indexing.ts')) void runBench();
