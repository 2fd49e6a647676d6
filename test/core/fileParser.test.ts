import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_CHUNKING } from '../../src/core/chunker.js';
import { DEFAULT_KEYWORD_OPTIONS, TermDictionary, documentAt } from '../../src/core/search/keywordIndex.js';
import { inlineParser, parseFile, workerParser, type ParsedFile } from '../../src/core/fileParser.js';
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
  return { drafts: parsed.drafts, passages: parsed.drafts.map((_, i) => documentAt(passages, i)), page: page.lengths.length > 0 ? documentAt(page, 0) : null };
}

test('parse workers give exactly what parsing on the calling thread gives; once they are gone, files are parsed on the calling thread', async () => {
  // Two threads, two dictionaries: each answer's term numbers must be read with its own thread's.
  const worker = workerParser(OPTIONS, 2);
  const inline = inlineParser(OPTIONS);
  try {
    const entries = Object.entries(FILES);
    // All sent at once: each answer must come back to the file that asked for it.
    const [fromWorker, fromInline] = await Promise.all([worker, inline].map((parser) => Promise.all(entries.map(([file, text]) => parser.parse(file, text)))));
    assert.deepEqual(fromWorker.map(spelled), fromInline.map(spelled));
    // Each file alone, with a dictionary of its own: the worker's dictionary carries nothing from one file into the next.
    assert.deepEqual(fromWorker.map(spelled), entries.map(([file, text]) => spelled(parseFile(file, text, DEFAULT_CHUNKING, new TermDictionary()))));
    const guide = fromWorker[entries.findIndex(([file]) => file === 'guide.html')]!;
    assert.ok('drafts' in guide && guide.drafts.length > 0 && guide.keyword.passages.lengths.length === guide.drafts.length);
    assert.ok(guide.drafts.some((_, i) => documentAt(guide.keyword.passages, i).terms.includes('make_install')), 'terms are made in the worker');
    assert.ok(documentAt(guide.keyword.page, 0).terms.includes('maxbatchbytes'), "the file's own document too");
  } finally {
    await worker.close();
    await inline.close();
  }
  // A worker that exited (here: closed; in a run: out of its heap) no longer answers: the parser does not stall.
  assert.deepEqual(spelled(await worker.parse('a.md', '# A\n\nText.')), spelled(parseFile('a.md', '# A\n\nText.', DEFAULT_CHUNKING, new TermDictionary())));
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
      return parsed.drafts.map((draft) => JSON.stringify({ path: file, ...draft }));
    });
  const stored = [...store.allChunks()].map(({ id: _id, ...chunk }) => JSON.stringify(chunk));
  assert.deepEqual(stored.sort(), expected.sort());
  assert.deepEqual(store.integrityProblems(), []);
});
