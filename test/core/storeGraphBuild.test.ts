/**
 * The run's last commit builds HNSW graphs in a worker thread: the committing thread stays
 * responsive, progress is reported, and a cancelled or killed build leaves the previous
 * generation current, searched exactly, with no files of its own behind.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { test } from 'node:test';
import { HashingEmbedder } from '../../src/core/embedding/hashingEmbedder.js';
import { indexFolder, type IndexProgress } from '../../src/core/indexer.js';
import { DocStore } from '../../src/core/store.js';
import { ExactVectorIndex } from '../../src/core/vectorIndex.js';
import { generatedPages, makeTempDir, writeTree } from '../support/tempDocs.js';
import { canMountTmpfs } from '../support/tmpfs.js';
import { fillWithVectors, markLastCommit, testVectors, VECTOR_DIMENSIONS } from '../support/vectorStore.js';

/** Segments of this many live vectors get a graph here (the default, 20,000, would make every test slow). */
const GRAPH_MIN = 1000;

async function manifestOf(storeDir: string): Promise<{ generation: number; segments: string[]; graphs?: Record<string, string> }> {
  return JSON.parse(await fs.readFile(path.join(storeDir, 'manifest.json'), 'utf8'));
}

const isAbort = (error: unknown) => (error as Error).name === 'AbortError';

/** Every `step`th passage's vector searched in `store` and exactly over testVectors(count): the share of the exact top 10 found. */
function recallAt10(store: DocStore, ids: number[], step: number): number {
  const vectors = testVectors(ids.length);
  const exact = new ExactVectorIndex(VECTOR_DIMENSIONS, ids.length);
  ids.forEach((id, row) => exact.upsert(id, vectors.row(row)));
  let found = 0;
  let asked = 0;
  for (let row = 0; row < ids.length; row += step) {
    const truth = new Set(exact.search(vectors.row(row), 10).map((hit) => hit.label));
    found += store.searchVectors(vectors.row(row), 10).filter((hit) => truth.has(hit.label)).length;
    asked += 10;
  }
  return found / asked;
}

test('the last commit builds its graph off this thread: timers keep firing during the build, progress is reported, and the graph finds what exact search finds', { timeout: 180_000 }, async (t) => {
  const count = 10_000;
  const storeDir = await makeTempDir('graph-responsive');
  const store = await DocStore.open(storeDir, { create: true, graphMinVectors: GRAPH_MIN });
  await store.lockForWriting();
  const ids = fillWithVectors(store, count);
  markLastCommit(store);
  const ticks: number[] = [];
  const interval = 10;
  const timer = setInterval(() => ticks.push(performance.now()), interval);
  const progress: number[] = [];
  let graphStarted: number | undefined;
  try {
    await store.commit({
      onGraphProgress: ({ added, total }) => {
        graphStarted ??= performance.now();
        assert.equal(total, count);
        progress.push(added);
      },
    });
  } finally {
    clearInterval(timer);
    await store.unlock();
  }
  const ended = performance.now();
  assert.ok(graphStarted !== undefined, 'the commit reported graph progress');
  assert.deepEqual(progress, Array.from({ length: count / 1000 }, (_, i) => (i + 1) * 1000));
  // From the first progress (a tenth of the vectors in) to the commit's end: the build, its file and the manifest.
  const phaseMs = ended - graphStarted;
  const times = [graphStarted, ...ticks.filter((tick) => tick > graphStarted! && tick < ended), ended];
  const maxGapMs = Math.max(...times.slice(1).map((time, i) => time - times[i]!));
  t.diagnostic(`graph phase ${phaseMs.toFixed(0)} ms, ${times.length - 2} timer ticks of ${interval} ms, longest gap ${maxGapMs.toFixed(0)} ms`);
  assert.ok(phaseMs >= 20 * interval, `the build took ${phaseMs.toFixed(0)} ms: too short to tell a blocked thread from a free one`);
  // A build on this thread would make the whole phase one gap.
  assert.ok(maxGapMs <= phaseMs / 4, `longest gap between timer ticks ${maxGapMs.toFixed(0)} ms of a ${phaseMs.toFixed(0)} ms build`);
  assert.ok(times.length - 2 >= phaseMs / interval / 4, `${times.length - 2} ticks in ${phaseMs.toFixed(0)} ms`);

  const manifest = await manifestOf(storeDir);
  assert.ok(manifest.graphs?.[manifest.segments[0]!], JSON.stringify(manifest.graphs));
  const reader = await DocStore.open(storeDir);
  assert.ok(recallAt10(reader, ids, 50) >= 0.97);
  assert.deepEqual((await fs.readdir(storeDir)).filter((name) => name.includes('.tmp-')), []);
});

test('a cancelled graph build rejects with the abort, leaves the store as it was (searched exactly), and the lock holder can commit it later', { timeout: 180_000 }, async () => {
  const storeDir = await makeTempDir('graph-cancel');
  const store = await DocStore.open(storeDir, { create: true, graphMinVectors: GRAPH_MIN });
  await store.lockForWriting();
  const ids = fillWithVectors(store, 5000);
  await store.commit();
  const files = (await fs.readdir(storeDir)).sort();
  const vectors = testVectors(ids.length);
  const exactHits = [0, 1234, 4999].map((row) => store.searchVectors(vectors.row(row), 10));

  markLastCommit(store);
  const controller = new AbortController();
  await assert.rejects(store.commit({ signal: controller.signal, onGraphProgress: () => controller.abort() }), isAbort);
  assert.deepEqual((await fs.readdir(storeDir)).sort(), files, 'nothing left of the cancelled commit');
  assert.equal(store.generation, 1);
  const reader = await DocStore.open(storeDir);
  assert.equal((await manifestOf(storeDir)).graphs?.[reader.generation], undefined);
  assert.deepEqual(Object.keys((await manifestOf(storeDir)).graphs ?? {}), []);
  assert.deepEqual([0, 1234, 4999].map((row) => reader.searchVectors(vectors.row(row), 10)), exactHits, 'the same exact search as before');

  // Still this process's writer: the next commit is the run's last again and builds the graph.
  await store.commit();
  await store.unlock();
  const manifest = await manifestOf(storeDir);
  assert.equal(manifest.generation, 2);
  assert.ok(manifest.graphs?.[manifest.segments[0]!]);
  assert.ok(recallAt10(await DocStore.open(storeDir), ids, 50) >= 0.97);
  assert.deepEqual((await fs.readdir(storeDir)).filter((name) => name.includes('.tmp-') || name === 'writer.lock'), []);
});

test('an index run cancelled while it builds the graph rejects with the abort and keeps its checkpoints; the next run builds the graph', { timeout: 180_000 }, async () => {
  const docs = await makeTempDir('graph-run-docs');
  await writeTree(docs, generatedPages(90));
  const storeDir = await makeTempDir('graph-run-store');
  const embedder = new HashingEmbedder();
  const controller = new AbortController();
  const phases: IndexProgress[] = [];
  const first = indexFolder(docs, await DocStore.open(storeDir, { create: true, graphMinVectors: 40 }), {
    embedder,
    checkpointFiles: 30,
    signal: controller.signal,
    onProgress: (progress) => {
      phases.push(progress);
      if (progress.phase === 'graph') controller.abort();
    },
  });
  await assert.rejects(first, isAbort);
  const graphProgress = phases.filter((progress) => progress.phase === 'graph');
  assert.equal(graphProgress.length, 1);
  assert.ok(graphProgress[0]!.graph!.total >= 40 && graphProgress[0]!.graph!.added === graphProgress[0]!.graph!.total, JSON.stringify(graphProgress[0]));
  const checkpoint = await DocStore.open(storeDir);
  assert.equal(checkpoint.fileCount, 90, 'the checkpoints hold every file');
  assert.deepEqual(Object.keys((await manifestOf(storeDir)).graphs ?? {}), []);
  assert.deepEqual(checkpoint.integrityProblems(), []);

  const seen: IndexProgress[] = [];
  const report = await indexFolder(docs, await DocStore.open(storeDir, { graphMinVectors: 40 }), { embedder, onProgress: (progress) => seen.push(progress) });
  assert.equal(report.filesIndexed, 0);
  assert.ok(seen.some((progress) => progress.phase === 'graph'));
  assert.equal(Object.keys((await manifestOf(storeDir)).graphs ?? {}).length, 1);
  assert.deepEqual((await fs.readdir(storeDir)).filter((name) => name.includes('.tmp-') || name === 'writer.lock'), []);
});

test('a writer killed with -9 during a graph build leaves the previous generation current and searched exactly; the next writer sweeps up and builds the graph', { timeout: 240_000 }, async () => {
  const count = 20_000;
  const storeDir = await makeTempDir('graph-killed');
  // CommonJS (.ts, not .mts), as store.test.ts's writer: the indexer's lazy imports resolve from files.
  const writer = path.join(await makeTempDir('graph-writer'), 'writer.ts');
  const source = (relative: string) => JSON.stringify(path.resolve(__dirname, relative));
  await fs.writeFile(
    writer,
    `import { DocStore } from ${source('../../src/core/store.ts')};
import { fillWithVectors, markLastCommit } from ${source('../support/vectorStore.ts')};
void (async () => {
  const store = await DocStore.open(process.argv[2]!, { create: true, graphMinVectors: ${GRAPH_MIN} });
  await store.lockForWriting();
  fillWithVectors(store, ${count});
  await store.commit();
  markLastCommit(store);
  await store.commit({ onGraphProgress: () => process.stdout.write('graph\\n') });
  process.stdout.write('done\\n');
})();
`,
  );
  const child = spawn(process.execPath, ['--import', 'tsx', writer, storeDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let errors = '';
  child.stderr!.on('data', (data: Buffer) => (errors += data.toString()));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
  let output = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (data: Buffer) => {
      output += data.toString();
      if (output.includes('graph')) resolve();
    });
    void exited.then(() => reject(new Error(`the writer exited before its graph build: ${errors}`)));
  });
  child.kill('SIGKILL');
  assert.equal(await exited, 'SIGKILL');
  assert.ok(!output.includes('done'), 'killed during the build');

  const reader = await DocStore.open(storeDir);
  assert.equal(reader.generation, 1);
  assert.deepEqual(Object.keys((await manifestOf(storeDir)).graphs ?? {}), []);
  assert.equal(reader.vectorCount, count);
  assert.deepEqual(reader.integrityProblems(), []);
  const ids = reader.file('part-0.md')!.chunkIds;
  const vectors = testVectors(count);
  // Exact search: every passage's own vector finds it first.
  ids.forEach((id, row) => assert.equal(reader.searchVectors(vectors.row(row), 1)[0]?.label, id));

  const next = await DocStore.open(storeDir, { graphMinVectors: GRAPH_MIN });
  await next.lockForWriting();
  markLastCommit(next);
  await next.commit();
  await next.unlock();
  const manifest = await manifestOf(storeDir);
  assert.equal(Object.keys(manifest.graphs ?? {}).length, 1);
  assert.deepEqual((await fs.readdir(storeDir)).filter((name) => name.includes('.tmp-') || name === 'writer.lock'), []);
  const graphed = await DocStore.open(storeDir);
  ids.forEach((id, row) => assert.equal(graphed.searchVectors(vectors.row(row), 1)[0]?.label, id));
});

test('a full disk while the worker writes the graph fails the commit in one line, the previous generation current, no graph file left', { timeout: 120_000 }, async (t) => {
  if (!canMountTmpfs()) return t.skip('cannot mount a small tmpfs here (needs unshare -rm and user namespaces)');
  const mountPoint = await makeTempDir('graph-tmpfs');
  const writer = path.join(await makeTempDir('graph-full-writer'), 'writer.ts');
  const source = (relative: string) => JSON.stringify(path.resolve(__dirname, relative));
  // 5,000 vectors: a 2.5 MB segment fits in 3 MiB, its 2 MB graph does not.
  await fs.writeFile(
    writer,
    `import { readdirSync } from 'node:fs';
import { DocStore } from ${source('../../src/core/store.ts')};
import { fillWithVectors, markLastCommit } from ${source('../support/vectorStore.ts')};
void (async () => {
  const dir = process.argv[2]!;
  const store = await DocStore.open(dir, { create: true, graphMinVectors: ${GRAPH_MIN} });
  await store.lockForWriting();
  fillWithVectors(store, 5000);
  await store.commit();
  markLastCommit(store);
  const message = await store.commit().then(() => 'committed', (error: Error) => error.message);
  await store.unlock();
  const reader = await DocStore.open(dir);
  process.stdout.write(JSON.stringify({ message, generation: reader.generation, vectors: reader.vectorCount, hits: reader.searchVectors(reader.vectorOf(reader.file('part-3.md')!.chunkIds[7]!)!, 1).map((hit) => hit.label), expected: reader.file('part-3.md')!.chunkIds[7], files: readdirSync(dir) }));
})();
`,
  );
  const script = [`mount -t tmpfs -o size=3m tmpfs "${mountPoint}" || exit 99`, `"${process.execPath}" --import tsx "${writer}" "${mountPoint}/store"`].join('\n');
  const result = spawnSync('unshare', ['-rm', 'sh', '-c', script], { encoding: 'utf8', timeout: 110_000, cwd: path.resolve(__dirname, '../..') });
  assert.equal(result.status, 0, `${result.stdout}${result.stderr}`);
  const outcome = JSON.parse(result.stdout) as { message: string; generation: number; vectors: number; hits: number[]; expected: number; files: string[] };
  assert.match(outcome.message, /^cannot write Docent store at .*: the disk is full \(ENOSPC\); its previous index \(generation 1\) is intact$/);
  assert.equal(outcome.generation, 1);
  assert.equal(outcome.vectors, 5000);
  assert.deepEqual(outcome.hits, [outcome.expected], 'searched exactly, as before');
  assert.deepEqual(outcome.files.filter((name) => name.endsWith('.hnsw') || name.includes('.tmp-') || name === 'writer.lock'), [], outcome.files.join(' '));
});
