import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { HashingEmbedder } from '../../src/core/embedding/hashingEmbedder.js';
import { indexFolder } from '../../src/core/indexer.js';
import { HybridRetriever } from '../../src/core/search/hybrid.js';
import { DocStore, StoreError } from '../../src/core/store.js';
import { freezeDocuments } from '../../src/core/search/keywordIndex.js';
import { BLOCK_BYTES, BlockDigester } from '../../src/core/storeBlocks.js';
import { passageRecordsOf } from '../../src/core/draftRecords.js';
import { bufferBytes, decodeSegment, mergeSegments, openSegment, segmentFile } from '../../src/core/storeSegment.js';
import { CLI_PATH, runDocent } from '../support/cli.js';
import { generatedPages, makeTempDir, writeTree } from '../support/tempDocs.js';
import { canMountTmpfs } from '../support/tmpfs.js';


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
  await fs.writeFile(path.join(storeDir, manifest.segments[0]), '[{"id": 1, "pa');
  await assert.rejects(loaded(storeDir), (error: unknown) => error instanceof StoreError && /corrupt/.test(error.message));
  await fs.writeFile(path.join(storeDir, 'manifest.json'), 'not json');
  await assert.rejects(DocStore.open(storeDir), (error: unknown) => error instanceof StoreError && /manifest.json/.test(error.message));
});

/** Opens a store and reads all its segments (which opening alone does not), and its HNSW graphs with a dense search. */
async function loaded(storeDir: string): Promise<DocStore> {
  const store = await DocStore.open(storeDir);
  store.integrityProblems();
  const first = store.filePaths().flatMap((file) => store.file(file)!.chunkIds)[0];
  const vector = first === undefined ? undefined : store.vectorOf(first);
  if (vector) store.searchVectors(vector, 5);
  return store;
}

/** Rewrites one file of the current generation and re-seals the manifest, as a buggy writer would. */
async function rewriteSealed(storeDir: string, file: string, bytes: Buffer): Promise<void> {
  const manifestPath = path.join(storeDir, 'manifest.json');
  const { sha256: _old, ...manifest } = JSON.parse(await fs.readFile(manifestPath, 'utf8'));
  await fs.writeFile(path.join(storeDir, file), bytes);
  manifest.checksums[file] = { bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
  const sha256 = createHash('sha256').update(JSON.stringify(manifest)).digest('hex');
  await fs.writeFile(manifestPath, JSON.stringify({ ...manifest, sha256 }));
}

test('integrityProblems names a generation whose structures disagree', async () => {
  const docs = await makeTempDir('docs');
  const storeDir = await makeTempDir('store');
  await writeTree(docs, generatedPages(3));
  await indexFolder(docs, await DocStore.open(storeDir, { create: true }), { embedder: new HashingEmbedder() });
  assert.deepEqual((await DocStore.open(storeDir)).integrityProblems(), []);
  // A segment that lost one passage (its keyword document and vector too), checksummed by the (buggy) writer that wrote it.
  const manifest = JSON.parse(await fs.readFile(path.join(storeDir, 'manifest.json'), 'utf8'));
  const bytes = await fs.readFile(path.join(storeDir, manifest.segments[0]));
  const segment = decodeSegment(bufferBytes(bytes));
  const lost = openSegment(bufferBytes(bytes)).passage(0);
  // Merged with a segment whose only content is the first passage's tombstone: that passage's record, postings and vector go.
  const nothing = freezeDocuments([], []);
  const tombstone = { ...segment, firstChunkId: lost.id, firstFileId: Number.MAX_SAFE_INTEGER, passages: passageRecordsOf([]), keyword: nothing, pages: nothing, vectors: new Float32Array(0), removedChunks: [lost.id], removedFiles: [] };
  const shorter = mergeSegments([segment, tombstone]);
  await rewriteSealed(storeDir, manifest.segments[0], Buffer.concat([...segmentFile(shorter).pieces()]));
  const problems = (await DocStore.open(storeDir)).integrityProblems();
  assert.ok(problems.some((problem) => problem.includes(lost.path) && /missing/.test(problem)), problems.join('; '));
  assert.ok(problems.some((problem) => /cataloged chunks for/.test(problem)), problems.join('; '));
});

/** Each file of the store in `storeDir` damaged at several offsets, one at a time: detected (one line naming the store, exit 2 from `docent query`) or harmless. */
async function assertDamageDetected(storeDir: string, expectedFiles: string[]): Promise<void> {
  const reference = contentSignature(await DocStore.open(storeDir));
  const files = (await fs.readdir(storeDir)).sort();
  assert.deepEqual(
    files.map((file) => file.replace(/-\d+\./, '-N.')),
    expectedFiles,
  );
  let cliChecked = 0;
  for (const file of files) {
    const original = await fs.readFile(path.join(storeDir, file));
    for (const offset of [0, Math.floor(original.length / 3), Math.floor((2 * original.length) / 3), original.length - 1]) {
      const damagedDir = await makeTempDir('damaged');
      for (const other of files) await fs.copyFile(path.join(storeDir, other), path.join(damagedDir, other));
      const damaged = Buffer.from(original);
      damaged[offset] = damaged[offset]! ^ 0x5a;
      await fs.writeFile(path.join(damagedDir, file), damaged);
      const opened = await loaded(damagedDir).then(
        (store) => store,
        (error: unknown) => error,
      );
      if (opened instanceof DocStore) {
        // Harmless damage only: the same passages, consistent structures.
        assert.deepEqual(contentSignature(opened), reference, `${file} @${offset} loaded with different content`);
        assert.deepEqual(opened.integrityProblems(), [], `${file} @${offset}`);
        continue;
      }
      assert.ok(opened instanceof StoreError, `${file} @${offset}: ${String(opened)}`);
      assert.match(opened.message, new RegExp(`^corrupt Docent store at ${damagedDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `));
      assert.doesNotMatch(opened.message, /\n/);
      if (offset === 0 && existsSync(CLI_PATH)) {
        // What a user sees: exit 2 and one line, never a stack or answers from damaged data.
        const query = await runDocent(['query', 'replication', '--store', damagedDir]);
        assert.equal(query.code, 2, `${file}: ${query.stderr}`);
        assert.equal(query.stdout, '');
        assert.match(query.stderr, /^docent: corrupt Docent store at .*\n$/);
        cliChecked++;
      }
    }
  }
  if (existsSync(CLI_PATH)) assert.equal(cliChecked, files.length);
}

test('every store file damaged at several offsets is detected, in one line naming the store', async () => {
  const docs = await makeTempDir('docs');
  const storeDir = await makeTempDir('store');
  await writeTree(docs, generatedPages(12));
  // A lowered graph threshold, so that the store has an HNSW graph file; the hashing spec, so that `docent query` searches it.
  await indexFolder(docs, await DocStore.open(storeDir, { create: true, graphMinVectors: 1 }), { embedder: new HashingEmbedder(), embedderSpec: 'hashing' });
  await assertDamageDetected(storeDir, ['catalog-N.bin', 'manifest.json', 'segment-N.bin', 'vectors-N.hnsw']);
});

test('a catalog delta and the catalog it applies to, each damaged at several offsets, are detected', async () => {
  const docs = await makeTempDir('docs');
  const storeDir = await makeTempDir('store');
  await writeTree(docs, generatedPages(12));
  const options = { embedder: new HashingEmbedder(), embedderSpec: 'hashing' };
  await indexFolder(docs, await DocStore.open(storeDir, { create: true }), options);
  await fs.appendFile(path.join(docs, 'section-3/page-3.md'), '\n## Escalation\n\nPage the quokka team.\n');
  await indexFolder(docs, await DocStore.open(storeDir), { ...options, changedPaths: ['section-3/page-3.md'] });
  // The writer's sweep at its next run: only the current generation's files.
  await indexFolder(docs, await DocStore.open(storeDir), options);
  await assertDamageDetected(storeDir, ['catalog-N.bin', 'catalog-N.delta', 'manifest.json', 'segment-N.bin', 'segment-N.bin']);
});

test('an update of a few files writes a delta of the catalog beside the whole one, which many changes write again', async () => {
  const { docs, storeDir, embedder } = await indexedPages(200);
  const whole = (await manifestOf(storeDir)).catalog;
  const edit = async (pages: number[], round: number) => {
    // A word of this round's alone.
    const word = ['kiwis', 'wombats', 'quokkas'][round - 1]!;
    for (const page of pages) await fs.appendFile(path.join(docs, `section-${page % 7}/page-${page}.md`), `\nA note about ${word}.\n`);
    await indexFolder(docs, await DocStore.open(storeDir), { embedder });
    const reopened = await DocStore.open(storeDir);
    assert.deepEqual(contentSignature(reopened), contentSignature(await freshIndex(docs)), `round ${round}`);
    // A search's file lookups see the changed files' new passages and pages.
    const hits = reopened.searchPassages(word, 100);
    assert.deepEqual(new Set(hits.map((hit) => reopened.chunkPath(hit.id))), new Set(pages.map((page) => `section-${page % 7}/page-${page}.md`)), `round ${round}`);
    assert.ok(hits.every((hit) => reopened.chunk(hit.id)!.text.includes(word)));
    assert.deepEqual(new Set(reopened.searchPages(word, 100).map((hit) => reopened.filePath(hit.id))), new Set(pages.map((page) => `section-${page % 7}/page-${page}.md`)), `round ${round}: pages`);
    assert.deepEqual((await loaded(storeDir)).integrityProblems(), [], `round ${round}`);
    return manifestOf(storeDir);
  };
  const first = await edit([3], 1);
  assert.match(first.catalog, /^catalog-\d+\.delta$/);
  assert.equal(first.catalogBase, whole, 'the delta applies to the whole catalog the first index run wrote');
  assert.ok(first.checksums[first.catalog]!.bytes * 20 < first.checksums[whole]!.bytes, 'the delta holds one file');
  const second = await edit([4, 5], 2);
  assert.equal(second.catalogBase, whole);
  assert.ok(second.checksums[second.catalog]!.bytes > first.checksums[first.catalog]!.bytes, 'it holds every change since the whole catalog');
  const many = await edit(Array.from({ length: 70 }, (_, i) => i + 10), 3);
  assert.match(many.catalog, /^catalog-\d+\.bin$/);
  assert.equal(many.catalogBase, undefined);
  // The writer's sweep at its next run: only the current generation's files.
  await indexFolder(docs, await DocStore.open(storeDir), { embedder });
  assert.deepEqual((await fs.readdir(storeDir)).filter((file) => file.startsWith('catalog-')), [many.catalog], 'the replaced catalog and delta are swept');
});

async function manifestOf(storeDir: string): Promise<{ catalog: string; catalogBase?: string; segments: string[]; graphs?: Record<string, string>; checksums: Record<string, { bytes: number }> }> {
  return JSON.parse(await fs.readFile(path.join(storeDir, 'manifest.json'), 'utf8'));
}

/** A passage's place, the same in two stores of the same files (ids may differ). */
function placeOf(store: DocStore, id: number): string {
  const chunk = store.chunk(id)!;
  return `${chunk.path}:${chunk.startLine}`;
}

/** The nearest passages of `graphed` and `exact` to every fifth passage's vector agree (as places, and their scores). */
function assertSameNeighbours(graphed: DocStore, exact: DocStore, what: string): void {
  const ids = [...exact.allChunks()].map((chunk) => chunk.id);
  assert.equal(graphed.vectorCount, ids.length, what);
  const byPlace = new Map([...graphed.allChunks()].map((chunk) => [`${chunk.path}:${chunk.startLine}`, chunk.id]));
  let found = 0;
  let wanted = 0;
  for (const id of ids.filter((_, i) => i % 5 === 0)) {
    const query = exact.vectorOf(id)!;
    assert.deepEqual([...graphed.vectorOf(byPlace.get(placeOf(exact, id))!)!].map((value) => value.toFixed(5)), [...query].map((value) => value.toFixed(5)), `${what}: the stored vector`);
    const truth = exact.searchVectors(query, 10);
    const hits = graphed.searchVectors(query, 10);
    // hnswlib computes in float32.
    assert.ok(hits.length === truth.length && hits.every((hit, i) => Math.abs(hit.score - truth[i]!.score) < 1e-4), `${what}: scores of the ten nearest`);
    const places = new Set(truth.map((hit) => placeOf(exact, hit.label)));
    found += hits.filter((hit) => places.has(placeOf(graphed, hit.label))).length;
    wanted += truth.length;
  }
  // Ties between equally near passages may be broken either way; otherwise the same passages.
  assert.ok(found / wanted >= 0.97, `${what}: recall@10 ${found / wanted}`);
}

/** `pages` generated pages indexed twice: exactly (default threshold) and with graphs from 40 vectors a segment (`writer` is the graph store's writer). */
async function graphAndExactStores(pages: number, checkpointFiles?: number): Promise<{ docs: string; embedder: HashingEmbedder; exactDir: string; storeDir: string; writer: DocStore }> {
  const docs = await makeTempDir('docs');
  await writeTree(docs, generatedPages(pages));
  const embedder = new HashingEmbedder();
  const exactDir = await makeTempDir('exact-store');
  const storeDir = await makeTempDir('graph-store');
  await indexFolder(docs, await DocStore.open(exactDir, { create: true }), { embedder });
  const writer = await DocStore.open(storeDir, { create: true, graphMinVectors: 40 });
  await indexFolder(docs, writer, { embedder, checkpointFiles });
  return { docs, embedder, exactDir, storeDir, writer };
}

test('a segment above the graph threshold gets an HNSW graph in the manifest, searched like exact search; edits never return removed passages; merging rebuilds it', async () => {
  const { docs, embedder, exactDir, storeDir, writer } = await graphAndExactStores(90, 30);
  assert.equal((await manifestOf(exactDir)).graphs?.[(await manifestOf(exactDir)).segments[0]!], undefined, 'below the threshold: no graph');
  let manifest = await manifestOf(storeDir);
  const graphed = Object.entries(manifest.graphs ?? {});
  assert.ok(graphed.length >= 1 && graphed.every(([segment, graph]) => manifest.segments.includes(segment) && /^vectors-\d+\.hnsw$/.test(graph) && manifest.checksums[graph]!.bytes > 0), JSON.stringify(manifest.graphs));
  const firstGraphs = graphed.map(([, graph]) => graph);
  assertSameNeighbours(await DocStore.open(storeDir), await DocStore.open(exactDir), 'reopened');
  // The writer's own instance searches the new graphs as well.
  assertSameNeighbours(writer, await DocStore.open(exactDir), 'writer');

  // A keyword search never reads a graph: it works with the graph files destroyed; a dense one says the store is damaged.
  const destroyed = await makeTempDir('destroyed');
  for (const file of await fs.readdir(storeDir)) await fs.copyFile(path.join(storeDir, file), path.join(destroyed, file));
  for (const graph of firstGraphs) await fs.writeFile(path.join(destroyed, graph), 'destroyed');
  const reader = await DocStore.open(destroyed);
  assert.ok(reader.searchPassages('replication', 5).length > 0);
  assert.throws(
    () => reader.searchVectors(reader.vectorOf([...reader.allChunks()][0]!.id)!, 5),
    (error: unknown) => error instanceof StoreError && /^corrupt Docent store at .*: vectors-\d+\.hnsw does not match its checksum/.test(error.message) && !error.message.includes('\n'),
  );

  // Removed and edited files: the graph's segment stays, and its removed passages are never returned.
  const removedStore = await DocStore.open(storeDir);
  const removedIds = removedStore.file('section-0/page-7.md')!.chunkIds;
  const removedVector = removedStore.vectorOf(removedIds[0]!)!;
  await fs.rm(path.join(docs, 'section-0/page-7.md'));
  await fs.appendFile(path.join(docs, 'section-1/page-8.md'), '\nA note about wombats.\n');
  await indexFolder(docs, await DocStore.open(storeDir, { graphMinVectors: 40 }), { embedder });
  await indexFolder(docs, await DocStore.open(exactDir), { embedder });
  manifest = await manifestOf(storeDir);
  assert.ok(firstGraphs.every((graph) => Object.values(manifest.graphs ?? {}).includes(graph)), 'a small change keeps the graphs');
  const edited = await DocStore.open(storeDir);
  assert.ok(!edited.searchVectors(removedVector, 20).some((hit) => removedIds.includes(hit.label)));
  assertSameNeighbours(edited, await DocStore.open(exactDir), 'after edits');

  // Enough new files that the new segment is merged into the old ones: one graph of all of them, the old graph files swept.
  const beforeMerge = Object.values(manifest.graphs ?? {});
  await writeTree(docs, generatedPages(200));
  await indexFolder(docs, await DocStore.open(storeDir, { graphMinVectors: 40 }), { embedder });
  await indexFolder(docs, await DocStore.open(exactDir), { embedder });
  manifest = await manifestOf(storeDir);
  assert.ok(Object.keys(manifest.graphs ?? {}).length >= 1 && Object.values(manifest.graphs ?? {}).every((graph) => !firstGraphs.includes(graph)), JSON.stringify(manifest.graphs));
  const onDisk = await fs.readdir(storeDir);
  // The replaced generation's graphs stay for readers still loading it, until the next commit.
  const kept = new Set([...beforeMerge, ...Object.values(manifest.graphs ?? {})]);
  assert.ok(onDisk.filter((file) => file.endsWith('.hnsw')).every((file) => kept.has(file)), onDisk.join(' '));
  assertSameNeighbours(await DocStore.open(storeDir), await DocStore.open(exactDir), 'after a merge');
});

test('a reader whose generation was swept before its first dense search searches that generation exactly, never "corrupt"', async () => {
  const { docs, embedder, exactDir, storeDir } = await graphAndExactStores(60);
  const [graph] = Object.values((await manifestOf(storeDir)).graphs ?? {});
  assert.ok(graph, 'the store has a graph');
  const reader = await DocStore.open(storeDir);
  // Its segments are open (and its vectors indexed) but its graph is not loaded yet.
  reader.vectorOf([...reader.allChunks()][0]!.id);
  // Two runs that merge everything into new segments: the second one sweeps the reader's generation.
  for (const round of [0, 1]) {
    await writeTree(docs, Object.fromEntries(Object.entries(generatedPages(60)).map(([file, text]) => [`round-${round}/${file}`, text])));
    await indexFolder(docs, await DocStore.open(storeDir, { graphMinVectors: 40 }), { embedder });
  }
  assert.equal(existsSync(path.join(storeDir, graph)), false, 'the first graph was swept');
  assertSameNeighbours(reader, await DocStore.open(exactDir), 'swept reader');
});

test('a store opened to search verifies each block it reads: damage elsewhere is harmless, damage in a hit is one line and never its text; info checks every block', async (t) => {
  const docs = await makeTempDir('docs');
  const storeDir = await makeTempDir('store');
  await writeTree(docs, generatedPages(1000));
  await indexFolder(docs, await DocStore.open(storeDir, { create: true }), {});
  const manifest = JSON.parse(await fs.readFile(path.join(storeDir, 'manifest.json'), 'utf8'));
  const [name] = manifest.segments as string[];
  assert.ok(typeof manifest.checksums[name!].blocks === 'string', 'segments are checksummed per block');
  const bytes = await fs.readFile(path.join(storeDir, name!));
  assert.ok(bytes.length > 3 * BLOCK_BYTES, `the segment spans several blocks: ${bytes.length} bytes`);
  // Where each passage's JSON record lies in the file (the passages section is the first).
  const source = bufferBytes(bytes);
  const segment = decodeSegment(source);
  const recordAt = (i: number): number => segment.passages.read(0, 0).byteOffset - source.read(0, 0).byteOffset + (i === 0 ? 0 : segment.passages.ends[i - 1]!);
  const blockOf = (offset: number): number => Math.floor(offset / BLOCK_BYTES);
  const ids = [...segment.keyword.ids];
  // A passage wholly in block 1, which holds passages only (block 0 holds the header and is read at open).
  assert.ok(recordAt(ids.length) > 2 * BLOCK_BYTES, 'the passages fill the first two blocks');
  const reference = await DocStore.open(storeDir);
  const queryFor = (i: number): string => {
    const page = /page-(\d+)\.md$/.exec(reference.chunk(ids[i]!)!.path)![1];
    return `limit${page} E${1000 + Number(page)}`;
  };
  // One its page's query finds first (a page has several passages).
  const target = ids.findIndex((_, i) => blockOf(recordAt(i)) === 1 && blockOf(recordAt(i + 1) - 1) === 1 && reference.searchPassages(queryFor(i), 1)[0]?.id === ids[i]);
  const elsewhere = ids.findIndex((_, i) => blockOf(recordAt(i)) === 2 && blockOf(recordAt(i + 1) - 1) === 2 && recordAt(i + 1) <= recordAt(ids.length));
  assert.ok(target > 0 && elsewhere > 0);
  const query = queryFor(target);
  const [hit] = reference.searchPassages(query, 1);
  assert.equal(hit!.id, ids[target], 'the query finds the passage that will be damaged');
  const damagedAt = recordAt(target) + 20;
  const damaged = Buffer.from(bytes);
  damaged[damagedAt] = damaged[damagedAt]! ^ 0x5a;
  await fs.writeFile(path.join(storeDir, name!), damaged);

  const store = await DocStore.open(storeDir);
  store.load();
  assert.deepEqual(store.searchPassages(query, 1), [hit], 'postings in undamaged blocks still search');
  assert.deepEqual(store.chunk(ids[elsewhere]!), reference.chunk(ids[elsewhere]!), 'a passage in another block reads as it was');
  assert.throws(
    () => store.chunk(hit!.id),
    (error: unknown) => error instanceof StoreError && new RegExp(`^corrupt Docent store at .*: ${name} does not match its checksum`).test(error.message) && !error.message.includes('\n'),
  );
  await assert.rejects(new HybridRetriever(store, undefined).search(query, { k: 3 }), StoreError);
  assert.throws(() => store.verify(), StoreError);
  if (!existsSync(CLI_PATH)) return t.skip('dist/cli.js not built: run "npm run build" (npm test does)');
  for (const args of [['query', query], ['info']]) {
    const run = await runDocent([...args, '--store', storeDir]);
    assert.equal(run.code, 2, `${args[0]}: ${run.stderr}`);
    assert.equal(run.stdout, '');
    assert.match(run.stderr, /^docent: corrupt Docent store at .*does not match its checksum.*\n$/);
  }
});

test('a second writer is refused while the first holds the lock; a lock left by a dead process is taken over', async () => {
  const docs = await makeTempDir('docs');
  const storeDir = await makeTempDir('store');
  await writeTree(docs, generatedPages(4));
  const first = await DocStore.open(storeDir, { create: true });
  await first.lockForWriting();
  const second = await DocStore.open(storeDir, { create: true });
  await assert.rejects(indexFolder(docs, second), (error: unknown) => error instanceof StoreError && /being written by process \d+/.test(error.message));
  await first.unlock();
  await indexFolder(docs, second);
  assert.equal(existsSync(path.join(storeDir, 'writer.lock')), false, 'the lock is released after the run');

  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  await fs.writeFile(path.join(storeDir, 'writer.lock'), `${dead.stdout}\n`);
  await writeTree(docs, { 'new.md': '# New\n\nAbout wombat grooming.\n' });
  const report = await indexFolder(docs, await DocStore.open(storeDir));
  assert.equal(report.filesIndexed, 1);
  // The first instance catches up with what the other one committed before it writes.
  await writeTree(docs, { 'newer.md': '# Newer\n\nAbout numbat feeding.\n' });
  await indexFolder(docs, first);
  assert.deepEqual(contentSignature(await DocStore.open(storeDir)), contentSignature(await freshIndex(docs)));
});

test('readers never delete: files that are not the store\'s own survive, and only the writer sweeps', async () => {
  const docs = await makeTempDir('docs');
  const storeDir = await makeTempDir('store');
  await writeTree(docs, generatedPages(3));
  await indexFolder(docs, await DocStore.open(storeDir, { create: true }));
  const foreign = ['notes.txt', 'catalog-backup.json', 'chunks-1.json.tmp-1-zz'];
  const orphanOfDeadWriter = 'chunks-9.json.tmp-999999999-abcdef';
  for (const name of [...foreign, orphanOfDeadWriter, 'chunks-7.json']) await fs.writeFile(path.join(storeDir, name), 'x');
  await DocStore.open(storeDir);
  await runDocent(['info', '--store', storeDir]);
  for (const name of [...foreign, orphanOfDeadWriter, 'chunks-7.json']) assert.ok(existsSync(path.join(storeDir, name)), `a reader deleted ${name}`);
  await writeTree(docs, { 'new.md': '# New\n\nAbout quolls.\n' });
  await indexFolder(docs, await DocStore.open(storeDir));
  for (const name of foreign) assert.ok(existsSync(path.join(storeDir, name)), `the writer deleted ${name}, which is not its own`);
  for (const name of [orphanOfDeadWriter, 'chunks-7.json']) assert.equal(existsSync(path.join(storeDir, name)), false, `the writer left ${name}`);
});

test('an older store format is rebuilt by the next index run with a one-line notice, and refused by readers', async (t) => {
  if (!existsSync(CLI_PATH)) return t.skip('dist/cli.js not built: run "npm run build" (npm test does)');
  const docs = await makeTempDir('docs');
  const storeDir = await makeTempDir('store');
  await writeTree(docs, generatedPages(3));
  await fs.writeFile(path.join(storeDir, 'manifest.json'), JSON.stringify({ format: 1, generation: 4, files: { catalog: 'catalog-4.json' } }));
  await fs.writeFile(path.join(storeDir, 'catalog-4.json'), '{}');
  const query = await runDocent(['query', 'backups', '--store', storeDir]);
  assert.equal(query.code, 2);
  assert.match(query.stderr, /^docent: Docent store at .* was written by an older Docent \(format 1\); run "docent index <folder> --store .*" to rebuild it\n$/);
  const index = await runDocent(['index', docs, '--store', storeDir, '--embedder', 'none']);
  assert.equal(index.code, 0, index.stderr);
  assert.match(index.stderr, /^docent: Docent store at .* was written by an older Docent \(format 1\): rebuilding it\n/);
  assert.deepEqual(contentSignature(await DocStore.open(storeDir)), contentSignature(await freshIndex(docs)));
  assert.equal(existsSync(path.join(storeDir, 'catalog-4.json')), false, 'the old generation is swept');
});

/** `pages` generated pages indexed with the hashing embedder into a new store. */
async function indexedPages(pages: number): Promise<{ docs: string; storeDir: string; embedder: HashingEmbedder }> {
  const docs = await makeTempDir('docs');
  const storeDir = await makeTempDir('store');
  await writeTree(docs, generatedPages(pages));
  const embedder = new HashingEmbedder();
  await indexFolder(docs, await DocStore.open(storeDir, { create: true }), { embedder });
  return { docs, storeDir, embedder };
}

test('a store whose catalog is JSON (written before the binary catalog) searches the same, and its next commit writes a binary catalog', async () => {
  const { docs, storeDir, embedder } = await indexedPages(20);
  const binary = await DocStore.open(storeDir);
  const query = 'page 7 retention';
  const expected = { passages: binary.searchPassages(query, 20).map((hit) => [hit.id, binary.chunkPath(hit.id)]), pages: binary.searchPages(query, 20).map((hit) => [hit.id, binary.filePath(hit.id), hit.score]), files: binary.filePaths().sort() };
  assert.ok(expected.passages.length > 0 && expected.pages.length > 0, 'the query finds passages and pages');
  // The same generation with the catalog as the older writer wrote it: a JSON object by path.
  const manifestPath = path.join(storeDir, 'manifest.json');
  const { sha256: _old, ...manifest } = JSON.parse(await fs.readFile(manifestPath, 'utf8'));
  const json = Buffer.from(JSON.stringify(Object.fromEntries(binary.filePaths().map((file) => [file, binary.file(file)]))));
  const oldName = (manifest.catalog as string).replace(/\.bin$/, '.json');
  delete manifest.checksums[manifest.catalog];
  manifest.catalog = oldName;
  manifest.checksums[oldName] = { bytes: json.length, sha256: createHash('sha256').update(json).digest('hex') };
  await fs.writeFile(path.join(storeDir, oldName), json);
  await fs.writeFile(manifestPath, JSON.stringify({ ...manifest, sha256: createHash('sha256').update(JSON.stringify(manifest)).digest('hex') }));
  const old = await DocStore.open(storeDir);
  assert.deepEqual(
    { passages: old.searchPassages(query, 20).map((hit) => [hit.id, old.chunkPath(hit.id)]), pages: old.searchPages(query, 20).map((hit) => [hit.id, old.filePath(hit.id), hit.score]), files: old.filePaths().sort() },
    expected,
  );
  assert.deepEqual(old.integrityProblems(), []);
  await fs.appendFile(path.join(docs, 'section-1/page-1.md'), '\n## Retention\n\nKeep the quokka logs.\n');
  await indexFolder(docs, await DocStore.open(storeDir), { embedder });
  const after = JSON.parse(await fs.readFile(manifestPath, 'utf8'));
  assert.match(after.catalog, /^catalog-\d+\.bin$/);
  assert.equal(existsSync(path.join(storeDir, oldName)), true, 'the replaced generation stays for readers still loading it');
  assert.deepEqual(contentSignature(await loaded(storeDir)), contentSignature(await freshIndex(docs)));
});

test('a store whose segments were checksummed in 256 KiB blocks (before 64 KiB) is read in parts, verified, and rewritten by a writer', async () => {
  const { docs, storeDir } = await indexedPages(300);
  const manifestPath = path.join(storeDir, 'manifest.json');
  const { sha256: _old, ...manifest } = JSON.parse(await fs.readFile(manifestPath, 'utf8'));
  const [name] = manifest.segments as string[];
  const bytes = await fs.readFile(path.join(storeDir, name!));
  assert.ok(bytes.length > 2 * 256 * 1024, `the segment spans several old blocks: ${bytes.length} bytes`);
  const reference = await DocStore.open(storeDir);
  const query = 'page 42 retention';
  const expected = reference.searchPassages(query, 10).map((hit) => reference.chunk(hit.id));
  assert.ok(expected.length > 0);
  const oldBlocks = new BlockDigester(256 * 1024);
  oldBlocks.update(bytes);
  manifest.checksums[name!] = { bytes: bytes.length, blocks: oldBlocks.finish() };
  await fs.writeFile(manifestPath, JSON.stringify({ ...manifest, sha256: createHash('sha256').update(JSON.stringify(manifest)).digest('hex') }));
  const old = await DocStore.open(storeDir);
  assert.deepEqual(
    old.searchPassages(query, 10).map((hit) => old.chunk(hit.id)),
    expected,
  );
  old.verify();
  // Dropping the embedder rewrites every passage: the writer reads the old segment whole and checks it against its old blocks.
  await indexFolder(docs, await DocStore.open(storeDir), {});
  assert.deepEqual(contentSignature(await loaded(storeDir)), contentSignature(await freshIndex(docs)));
});

async function segmentsOf(storeDir: string): Promise<{ name: string; bytes: number }[]> {
  const manifest = JSON.parse(await fs.readFile(path.join(storeDir, 'manifest.json'), 'utf8'));
  return (manifest.segments as string[]).map((name) => ({ name, bytes: manifest.checksums[name].bytes }));
}

test('a checkpoint writes only what changed, and a re-index that finds nothing changed reads only the catalog', async () => {
  const { docs, storeDir, embedder } = await indexedPages(200);
  const [first] = await segmentsOf(storeDir);
  await fs.appendFile(path.join(docs, 'section-3/page-3.md'), '\n## Escalation\n\nPage the quokka team.\n');
  await indexFolder(docs, await DocStore.open(storeDir), { embedder });
  const after = await segmentsOf(storeDir);
  assert.equal(after.length, 2);
  assert.deepEqual(after[0], first, 'the first segment is kept as it was');
  assert.ok(after[1]!.bytes * 50 < first!.bytes, `the new segment holds one file: ${after[1]!.bytes} vs ${first!.bytes} bytes`);
  assert.deepEqual(contentSignature(await DocStore.open(storeDir)), contentSignature(await freshIndex(docs)));

  // Proof that an unchanged re-index never reads a segment: it succeeds with every segment destroyed.
  for (const { name } of after) await fs.writeFile(path.join(storeDir, name), 'destroyed');
  const report = await indexFolder(docs, await DocStore.open(storeDir), { embedder });
  assert.deepEqual([report.filesIndexed, report.filesUnchanged, report.generation], [0, 200, 2]);
  await assert.rejects(loaded(storeDir), (error: unknown) => error instanceof StoreError && /does not match its checksum/.test(error.message));
});

test('many small checkpoints with edits and deletions merge into few segments that hold exactly a fresh index', async () => {
  const docs = await makeTempDir('docs');
  const storeDir = await makeTempDir('store');
  await writeTree(docs, generatedPages(60));
  const embedder = new HashingEmbedder();
  await indexFolder(docs, await DocStore.open(storeDir, { create: true }), { embedder, checkpointFiles: 1 });
  assert.ok((await segmentsOf(storeDir)).length <= 7, `segments: ${(await segmentsOf(storeDir)).length}`);
  for (let round = 0; round < 4; round++) {
    for (let i = round; i < 60; i += 7) await fs.appendFile(path.join(docs, `section-${i % 7}/page-${i}.md`), `\nRound ${round} note about kiwis ${i}.\n`);
    await fs.rm(path.join(docs, `section-${(round * 11) % 7}/page-${round * 11}.md`), { force: true });
    await writeTree(docs, { [`added/round-${round}.md`]: `# Round ${round}\n\nAbout wombats, round ${round}.\n` });
    const store = await DocStore.open(storeDir);
    await indexFolder(docs, store, { embedder, checkpointFiles: 2 });
    const reopened = await loaded(storeDir);
    assert.deepEqual(reopened.integrityProblems(), [], `round ${round}`);
    assert.deepEqual(contentSignature(reopened), contentSignature(await freshIndex(docs)), `round ${round}`);
    assert.equal(reopened.vectorCount, reopened.chunkCount);
    // The writer's own instance (uncommitted changes applied in memory) searches like a reopened one.
    assert.deepEqual(store.searchPassages('kiwis wombats', 50), reopened.searchPassages('kiwis wombats', 50));
    assert.ok((await segmentsOf(storeDir)).length <= 8, `round ${round}: ${(await segmentsOf(storeDir)).length} segments`);
  }
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

test('readers in a loop while another process indexes: no crash, no false "corrupt", and the final store equals a fresh index', { timeout: 240_000 }, async (t) => {
  if (!existsSync(CLI_PATH)) return t.skip('dist/cli.js not built: run "npm run build" (npm test does)');
  const docs = await makeTempDir('busy-docs');
  await writeTree(docs, generatedPages(900));
  const storeDir = await makeTempDir('busy-store');
  // A separate writer process that commits every 40 files, so readers meet many generations.
  // CommonJS (.ts, not .mts): tsx runs an ES module's TypeScript imports from data: URLs, where the indexer's lazy import('./fileParser.js') cannot resolve.
  const writer = path.join(await makeTempDir('writer'), 'writer.ts');
  const source = (relative: string) => JSON.stringify(path.resolve(__dirname, relative));
  await fs.writeFile(
    writer,
    `import { HashingEmbedder } from ${source('../../src/core/embedding/hashingEmbedder.ts')};
import { indexFolder } from ${source('../../src/core/indexer.ts')};
import { DocStore } from ${source('../../src/core/store.ts')};
const [docs, storeDir] = process.argv.slice(2);
void DocStore.open(storeDir, { create: true })
  .then((store) => indexFolder(docs!, store, { embedder: new HashingEmbedder(), checkpointFiles: 40 }))
  .then(() => process.exit(0));
`,
  );
  const indexer = spawn(process.execPath, ['--import', 'tsx', writer, docs, storeDir], { stdio: ['ignore', 'ignore', 'pipe'] });
  let indexerErrors = '';
  indexer.stderr!.on('data', (data: Buffer) => (indexerErrors += data.toString()));
  const finished = new Promise<number | null>((resolve) => indexer.once('exit', (code) => resolve(code)));
  let running = true;
  void finished.then(() => (running = false));
  const generationsSeen = new Set<number>();
  let inProcessReads = 0;
  const inProcess = (async () => {
    while (running) {
      // Opening is synchronous reading: let the child's exit event in between reads.
      await new Promise(setImmediate);
      try {
        const store = await DocStore.open(storeDir);
        assert.deepEqual(store.integrityProblems(), [], `generation ${store.generation}`);
        assert.equal(store.vectorCount, store.chunkCount);
        generationsSeen.add(store.generation);
        inProcessReads++;
      } catch (error) {
        // Before the first commit there is no store yet; anything else is a failure.
        assert.ok(error instanceof StoreError && /^no Docent store/.test(error.message), String(error));
      }
    }
  })();
  const cliReaders = (async () => {
    let reads = 0;
    while (running) {
      const info = await runDocent(['info', '--store', storeDir]);
      assert.ok(info.code === 0 || /no Docent store/.test(info.stderr), `docent info: ${info.code} ${info.stderr}`);
      reads++;
    }
    return reads;
  })();
  assert.equal(await finished, 0, indexerErrors);
  await inProcess;
  assert.ok((await cliReaders) > 0);
  assert.ok(generationsSeen.size >= 3 && inProcessReads > 5, `readers saw generations ${[...generationsSeen].join(', ')} in ${inProcessReads} reads`);
  const final = await DocStore.open(storeDir);
  assert.deepEqual(final.integrityProblems(), []);
  assert.deepEqual(contentSignature(final), contentSignature(await freshIndex(docs)));
  assert.deepEqual((await fs.readdir(storeDir)).filter((name) => name.includes('.tmp-') || name === 'writer.lock'), []);
});

test('a full disk fails the commit in one line and leaves the previous generation current, with no orphans', { timeout: 120_000 }, async (t) => {
  if (!existsSync(CLI_PATH)) return t.skip('dist/cli.js not built: run "npm run build" (npm test does)');
  if (!canMountTmpfs()) return t.skip('cannot mount a small tmpfs here (needs unshare -rm and user namespaces)');
  const small = await makeTempDir('small-docs');
  const large = await makeTempDir('large-docs');
  await writeTree(small, generatedPages(20));
  await writeTree(large, generatedPages(1500));
  const mountPoint = await makeTempDir('tmpfs');
  // Results live outside the tmpfs (it vanishes with the namespace) in a folder of this test's own.
  const results = await makeTempDir('full-disk-results');
  const cli = (args: string) => `"${process.execPath}" "${CLI_PATH}" ${args}`;
  const store = `${mountPoint}/store`;
  // All in one private namespace: the tmpfs exists only while this script runs.
  const script = [
    `mount -t tmpfs -o size=1m tmpfs "${mountPoint}" || exit 99`,
    `${cli(`index "${small}" --store "${store}" --embedder hashing --json`)} >/dev/null 2>&1 || exit 98`,
    `${cli(`info --store "${store}" --json`)} > "${results}/before.json" 2>&1`,
    // The large folder's first checkpoint does not fit next to the current generation.
    `${cli(`index "${large}" --store "${store}" --embedder hashing`)} > /dev/null 2> "${results}/index.err"; echo $? > "${results}/index.rc"`,
    `${cli(`info --store "${store}" --json`)} > "${results}/after.json" 2>&1; echo $? > "${results}/info.rc"`,
    `${cli(`query "replication" --store "${store}" --json`)} > /dev/null 2>&1; echo $? > "${results}/query.rc"`,
    `ls -a "${store}" > "${results}/files.txt"`,
  ].join('\n');
  const result = spawnSync('unshare', ['-rm', 'sh', '-c', script], { encoding: 'utf8', timeout: 110_000 });
  assert.equal(result.status, 0, `${result.stdout}${result.stderr}`);
  const read = (name: string) => fs.readFile(path.join(results, name), 'utf8');
  assert.equal((await read('index.rc')).trim(), '2');
  const message = await read('index.err');
  assert.match(message, /^docent: cannot write Docent store at .*: the disk is full \(ENOSPC\); its previous index \(generation \d+\) is intact\n$/);
  assert.equal((await read('info.rc')).trim(), '0');
  assert.equal((await read('query.rc')).trim(), '0');
  const before = JSON.parse(await read('before.json'));
  const after = JSON.parse(await read('after.json'));
  assert.deepEqual(after, before, 'the previous generation is the current one, unchanged');
  const leftovers = (await read('files.txt')).split('\n').filter((name) => name.includes('.tmp-') || name === 'writer.lock');
  assert.deepEqual(leftovers, []);
  const generations = new Set((await read('files.txt')).split('\n').flatMap((name) => /-(\d+)\./.exec(name)?.[1] ?? []));
  assert.equal(generations.size, 1, `only the current generation's files remain: ${[...generations].join(', ')}`);
});
