import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { test } from 'node:test';
import { DEFAULT_CHUNKING } from '../../src/core/chunker.js';
import { DEFAULT_KEYWORD_OPTIONS, TermDictionary, documentAt } from '../../src/core/search/keywordIndex.js';
import type { DiscoveredFile } from '../../src/core/discovery.js';
import { embeddingTextOf } from '../../src/core/chunkText.js';
import { decodeDrafts } from '../../src/core/draftRecords.js';
import { inlineParser, parseFile, type ParsedFile, type PreparedFile } from '../../src/core/fileParser.js';
import { workerParser } from '../../src/core/parseThreads.js';
import { indexFolder } from '../../src/core/indexer.js';
import { DocStore } from '../../src/core/store.js';
import { generatedPages, makeTempDir, writeTree } from '../support/tempDocs.js';

const FILES: Record<string, string> = {
  ...generatedPages(6),
  'guide.html': '<html><head><title>Guide</title></head><body><h1>Setup</h1><p>Run <code>make_install</code> twice.</p><h2>Tuning</h2><p>Set maxBatchBytes.</p></body></html>',
  'notes.rst': 'Notes\n=====\n\nThe ``pg_dump`` tool\n--------------------\n\nDumps one database.\n',
  'empty.md': '',
};

const OPTIONS = { chunking: DEFAULT_CHUNKING, keyword: DEFAULT_KEYWORD_OPTIONS };

/** A parse with its keyword documents spelled out (term numbers differ between dictionaries). */
function spelled(parsed: ParsedFile) {
  if ('error' in parsed) return parsed;
  const { passages, page } = parsed.keyword;
  const drafts = decodeDrafts(parsed.drafts);
  return { drafts, textLength: parsed.drafts.textLength, passages: drafts.map((_, i) => documentAt(passages, i)), page: page.lengths.length > 0 ? documentAt(page, 0) : null, embeddingTexts: parsed.embeddingTexts };
}

function spelledPrepared(prepared: PreparedFile) {
  return 'parsed' in prepared && prepared.parsed ? { hash: prepared.hash, parsed: spelled(prepared.parsed) } : prepared;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

async function filesIn(files: Record<string, string>): Promise<DiscoveredFile[]> {
  const root = await makeTempDir('parse');
  await writeTree(root, files);
  return Object.entries(files).map(([file, text]) => ({ path: file, absolutePath: path.join(root, file), size: Buffer.byteLength(text), mtimeMs: 0 }));
}

test('parse workers give exactly what reading and parsing on the calling thread gives; once they are gone, files are prepared on the calling thread', async () => {
  // Two threads, two dictionaries: each answer's term numbers must be read with its own thread's.
  const worker = workerParser({ ...OPTIONS, maxFileBytes: 4096 }, 2);
  const inline = inlineParser({ ...OPTIONS, maxFileBytes: 4096 });
  const entries = Object.entries({ ...FILES, 'huge.md': 'x'.repeat(5000), 'blob.md': 'a\u0000b' });
  const files = await filesIn(Object.fromEntries(entries));
  try {
    // All sent at once: each answer must come back to the file that asked for it.
    const [fromWorker, fromInline] = await Promise.all([worker, inline].map((parser) => Promise.all(files.map((file) => parser.prepare(file, undefined)))));
    assert.deepEqual(fromWorker.map(spelledPrepared), fromInline.map(spelledPrepared));
    // Each file alone, with a dictionary of its own: the worker's dictionary carries nothing from one file into the next.
    const alone = entries.map(([file, text]) => ({ hash: sha256(text), parsed: spelled(parseFile(file, text, DEFAULT_CHUNKING, new TermDictionary())) }));
    assert.deepEqual(fromWorker.slice(0, -2).map(spelledPrepared), alone.slice(0, -2));
    // The size cap and the binary check hold where the file is read.
    assert.deepEqual(fromWorker.slice(-2), [
      { skip: 'too-large', detail: '5000 bytes > 4096' },
      { skip: 'binary', detail: 'NUL byte in the first 8 KiB' },
    ]);
    // A file whose text has the hash it was known by is not parsed.
    const notes = files.find((file) => file.path === 'notes.rst')!;
    assert.deepEqual(await worker.prepare(notes, sha256(FILES['notes.rst']!)), { hash: sha256(FILES['notes.rst']!) });
    const guide = fromWorker[entries.findIndex(([file]) => file === 'guide.html')]!;
    assert.ok('parsed' in guide && guide.parsed && 'drafts' in guide.parsed);
    const { keyword } = guide.parsed;
    const drafts = decodeDrafts(guide.parsed.drafts);
    assert.ok(drafts.length > 0 && keyword.passages.lengths.length === drafts.length);
    assert.ok(drafts.some((_, i) => documentAt(keyword.passages, i).terms.includes('make_install')), 'terms are made in the worker');
    assert.ok(documentAt(keyword.page, 0).terms.includes('maxbatchbytes'), "the file's own document too");
  } finally {
    await worker.close();
    await inline.close();
  }
  // A worker that exited (here: closed; in a run: out of its heap) no longer answers: the parser does not stall.
  const [a] = await filesIn({ 'a.md': '# A\n\nText.' });
  assert.deepEqual(spelledPrepared(await worker.prepare(a!, undefined)), { hash: sha256('# A\n\nText.'), parsed: spelled(parseFile('a.md', '# A\n\nText.', DEFAULT_CHUNKING, new TermDictionary())) });
});

test('asked for embedding texts, a parse worker gives each passage what the embedder sees of it, as the calling thread does', async () => {
  const options = { ...OPTIONS, embeddingTexts: true };
  const worker = workerParser(options, 1);
  const files = await filesIn(FILES);
  try {
    const fromWorker = await Promise.all(files.map((file) => worker.prepare(file, undefined)));
    const fromInline = await Promise.all(files.map((file) => inlineParser(options).prepare(file, undefined)));
    assert.deepEqual(fromWorker.map(spelledPrepared), fromInline.map(spelledPrepared));
    const guide = fromWorker[files.findIndex((file) => file.path === 'guide.html')]!;
    assert.ok('parsed' in guide && guide.parsed && 'drafts' in guide.parsed);
    const drafts = decodeDrafts(guide.parsed.drafts);
    assert.deepEqual(guide.parsed.embeddingTexts, drafts.map((draft) => embeddingTextOf({ id: 0, path: 'guide.html', ...draft })));
    assert.match(guide.parsed.embeddingTexts![0]!, /^Guide\n/);
  } finally {
    await worker.close();
  }
  // Not asked for, they are not made.
  const plain = parseFile('guide.html', FILES['guide.html']!, DEFAULT_CHUNKING, new TermDictionary());
  assert.ok('drafts' in plain && plain.embeddingTexts === undefined);
});

test('an index run parsed by the workers holds exactly what one parsed on the calling thread holds', async () => {
  const docs = await makeTempDir('docs');
  // Enough files that the indexer parses them in a worker.
  const files = generatedPages(120);
  await writeTree(docs, files);
  const store = await DocStore.open(await makeTempDir('store'), { create: true });
  const report = await indexFolder(docs, store, {});
  assert.equal(report.filesIndexed, 120);
  const expected = Object.entries(files)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .flatMap(([file, text]) => {
      const parsed = parseFile(file, text, DEFAULT_CHUNKING, new TermDictionary());
      assert.ok('drafts' in parsed);
      return decodeDrafts(parsed.drafts).map((draft) => JSON.stringify({ path: file, ...draft }));
    });
  const stored = [...store.allChunks()].map(({ id: _id, ...chunk }) => JSON.stringify(chunk));
  assert.deepEqual(stored.sort(), expected.sort());
  assert.deepEqual(store.integrityProblems(), []);
});
