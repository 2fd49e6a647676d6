import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { HashingEmbedder } from '../../src/core/embedding/hashingEmbedder.js';
import { indexFolder } from '../../src/core/indexer.js';
import { HybridRetriever } from '../../src/core/search/hybrid.js';
import { DocStore, StoreError } from '../../src/core/store.js';
import { CLI_PATH } from '../support/cli.js';
import { generatedPages, makeTempDir, writeTree } from '../support/tempDocs.js';


/** Everything that identifies the indexed content, order-independent, ids excluded. */
function contentSignature(store: DocStore): string[] {
  return [...store.allChunks()].map((chunk) => `${chunk.path}:${chunk.startLine}-${chunk.endLine}:${chunk.text}`).sort();
}

async function freshIndex(folder: string): Promise<DocStore> {
  const store = await DocStore.open(await makeTempDir('ref-store'), { create: true });
  await indexFolder(folder, store, { embedder: new HashingEmbedder() });
  return store;
}

test('re-indexing touches only changed, added and deleted files', async () => {
  const docs = await makeTempDir('docs');
  const storeDir = await makeTempDir('store');
  await writeTree(docs, generatedPages(20));
  const embedder = new HashingEmbedder();
  const first = await indexFolder(docs, await DocStore.open(storeDir, { create: true }), { embedder });
  assert.equal(first.filesIndexed, 20);
  assert.ok(first.chunks >= 20);

  const again = await indexFolder(docs, await DocStore.open(storeDir), { embedder });
  assert.deepEqual([again.filesIndexed, again.filesUnchanged, again.filesDeleted, again.chunksAdded], [0, 20, 0, 0]);

  await fs.appendFile(path.join(docs, 'section-3/page-3.md'), '\n## Escalation\n\nPage the quokka team for vacuum storms.\n');
  await fs.rm(path.join(docs, 'section-4/page-4.md'));
  await writeTree(docs, { 'new/extra.md': '# Extra\n\nA page about zeppelin mooring.\n' });
  const store = await DocStore.open(storeDir);
  const update = await indexFolder(docs, store, { embedder });
  assert.deepEqual([update.filesIndexed, update.filesUnchanged, update.filesDeleted], [2, 18, 1]);

  const retriever = new HybridRetriever(store, embedder);
  assert.equal((await retriever.search('quokka escalation', { k: 1 }))[0]?.chunk.path, 'section-3/page-3.md');
  assert.equal((await retriever.search('zeppelin mooring', { k: 1 }))[0]?.chunk.path, 'new/extra.md');
  assert.ok(!(await retriever.search('page 4 logging E1004', { k: 20 })).some((hit) => hit.chunk.path === 'section-4/page-4.md'));
  // The incrementally maintained store holds exactly what a fresh index of the folder holds.
  assert.deepEqual(contentSignature(await DocStore.open(storeDir)), contentSignature(await freshIndex(docs)));
});

test('a touched file with identical content is not re-chunked', async () => {
  const docs = await makeTempDir('docs');
  const storeDir = await makeTempDir('store');
  await writeTree(docs, generatedPages(3));
  await indexFolder(docs, await DocStore.open(storeDir, { create: true }));
  const file = path.join(docs, 'section-1/page-1.md');
  const later = new Date(Date.now() + 5000);
  await fs.utimes(file, later, later);
  const report = await indexFolder(docs, await DocStore.open(storeDir));
  assert.deepEqual([report.filesIndexed, report.filesUnchanged], [0, 3]);
});

test('switching the embedding model re-embeds every chunk and never mixes dimensions', async () => {
  const docs = await makeTempDir('docs');
  const storeDir = await makeTempDir('store');
  await writeTree(docs, generatedPages(5));
  await indexFolder(docs, await DocStore.open(storeDir, { create: true }), { embedder: new HashingEmbedder(64) });
  const store = await DocStore.open(storeDir);
  assert.equal(store.embedder?.dimensions, 64);
  const report = await indexFolder(docs, store, { embedder: new HashingEmbedder(128) });
  assert.equal(report.reembedded, true);
  const reopened = await DocStore.open(storeDir);
  assert.deepEqual(reopened.embedder, { id: 'hashing-stand-in-128', dimensions: 128 });
  assert.equal(reopened.vectorCount, reopened.chunkCount);
  assert.deepEqual(reopened.integrityProblems(), []);
});

test('missing and corrupt stores fail with a clear StoreError', async () => {
  const empty = await makeTempDir('nostore');
  await assert.rejects(DocStore.open(empty), (error: unknown) => error instanceof StoreError && /no Docent store/.test(error.message));
  const docs = await makeTempDir('docs');
  const storeDir = await makeTempDir('store');
  await writeTree(docs, generatedPages(2));
  await indexFolder(docs, await DocStore.open(storeDir, { create: true }), { embedder: new HashingEmbedder() });
  const manifest = JSON.parse(await fs.readFile(path.join(storeDir, 'manifest.json'), 'utf8'));
  await fs.writeFile(path.join(storeDir, manifest.files.chunks), '[{"id": 1, "pa');
  await assert.rejects(DocStore.open(storeDir), (error: unknown) => error instanceof StoreError && /corrupt/.test(error.message));
  await fs.writeFile(path.join(storeDir, 'manifest.json'), 'not json');
  await assert.rejects(DocStore.open(storeDir), (error: unknown) => error instanceof StoreError && /manifest.json/.test(error.message));
});

test('integrityProblems names a generation whose structures disagree', async () => {
  const docs = await makeTempDir('docs');
  const storeDir = await makeTempDir('store');
  await writeTree(docs, generatedPages(3));
  await indexFolder(docs, await DocStore.open(storeDir, { create: true }), { embedder: new HashingEmbedder() });
  assert.deepEqual((await DocStore.open(storeDir)).integrityProblems(), []);
  // A chunks file that lost one passage (as a buggy writer could leave it) still parses.
  const manifest = JSON.parse(await fs.readFile(path.join(storeDir, 'manifest.json'), 'utf8'));
  const chunks = JSON.parse(await fs.readFile(path.join(storeDir, manifest.files.chunks), 'utf8')) as { path: string }[];
  await fs.writeFile(path.join(storeDir, manifest.files.chunks), JSON.stringify(chunks.slice(1)));
  const problems = (await DocStore.open(storeDir)).integrityProblems();
  assert.ok(problems.some((problem) => problem.includes(chunks[0]!.path) && /missing/.test(problem)), problems.join('; '));
  assert.ok(problems.some((problem) => /keyword passages/.test(problem)), problems.join('; '));
});

function runCli(args: string[]): { child: ReturnType<typeof spawn>; done: Promise<number | null> } {
  const child = spawn(process.execPath, [CLI_PATH, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  const done = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, done };
}

test('a process killed at random points leaves a loadable store, and the next run completes exactly', { timeout: 240_000 }, async (t) => {
  if (!existsSync(CLI_PATH)) return t.skip('dist/cli.js not built: run "npm run build" (npm test does)');
  const docs = await makeTempDir('crash-docs');
  await writeTree(docs, generatedPages(450));
  const reference = contentSignature(await freshIndex(docs));

  // Time one full run to spread the kills over its whole length.
  const timingStore = await makeTempDir('timing-store');
  const started = Date.now();
  assert.equal(await runCli(['index', docs, '--store', timingStore, '--json']).done, 0);
  const fullRunMs = Date.now() - started;

  const storeDir = await makeTempDir('crash-store');
  let seed = 12345;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let round = 0; round < 8; round++) {
    // Change some files between rounds so kills also land in incremental updates.
    await fs.appendFile(path.join(docs, `section-${round % 7}/page-${round}.md`), `\nRound ${round} note about kiwis.\n`);
    const { child, done } = runCli(['index', docs, '--store', storeDir, '--json']);
    const delay = Math.floor(random() * fullRunMs * 1.1);
    const timer = setTimeout(() => child.kill('SIGKILL'), delay);
    await done;
    clearTimeout(timer);
    if (await DocStore.exists(storeDir)) {
      const store = await DocStore.open(storeDir);
      const signature = contentSignature(store);
      assert.equal(new Set(signature).size, signature.length, `round ${round}: duplicate chunks after a kill at ${delay} ms`);
      assert.equal(store.vectorCount, store.chunkCount, `round ${round}: vectors and chunks disagree`);
      assert.deepEqual(store.integrityProblems(), [], `round ${round}: the store's structures disagree`);
    }
  }
  assert.equal(await runCli(['index', docs, '--store', storeDir, '--json']).done, 0);
  const finalReference = contentSignature(await freshIndex(docs));
  assert.notDeepEqual(finalReference, reference, 'the rounds changed the folder');
  assert.deepEqual(contentSignature(await DocStore.open(storeDir)), finalReference);
  const leftovers = (await fs.readdir(storeDir)).filter((name) => name.includes('.tmp-'));
  assert.deepEqual(leftovers, [], 'no temp files remain after a completed run');
});
