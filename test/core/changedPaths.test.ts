import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { HashingEmbedder } from '../../src/core/embedding/hashingEmbedder.js';
import { indexFolder } from '../../src/core/indexer.js';
import { HybridRetriever } from '../../src/core/search/hybrid.js';
import { DocStore } from '../../src/core/store.js';
import { makeTempDir, writeTree } from '../support/tempDocs.js';

const QUERIES = ['rotate signing keys', 'deploy rollback steps', 'cache invalidation', 'onboarding checklist'];

/** What a user sees of a store: every passage, and the ranked results of some queries (ids left out: they differ between runs). */
async function observed(storeDir: string): Promise<{ passages: string[]; files: string[]; results: string[][] }> {
  const store = await DocStore.open(storeDir);
  const retriever = new HybridRetriever(store, new HashingEmbedder());
  const results: string[][] = [];
  for (const query of QUERIES) results.push((await retriever.search(query, { k: 5 })).map((hit) => `${hit.chunk.path}:${hit.chunk.startLine}-${hit.chunk.endLine}:${hit.score.toFixed(6)}`));
  return {
    passages: [...store.allChunks()].map((chunk) => `${chunk.path}:${chunk.startLine}-${chunk.endLine}:${chunk.text}`).sort(),
    files: store.filePaths().sort(),
    results,
  };
}

async function indexInto(docs: string, storeDir: string, changedPaths?: string[]) {
  return indexFolder(docs, await DocStore.open(storeDir, { create: true }), { embedder: new HashingEmbedder(), ...(changedPaths ? { changedPaths } : {}) });
}

const FIRST: Record<string, string> = {
  'keys.md': '# Keys\n\nRotate the signing keys every quarter with the rotate command.\n',
  'guide/deploy.md': '# Deploy\n\nDeploy with the pipeline; rollback steps are in the runbook.\n',
  'guide/cache.rst': 'Cache\n=====\n\nCache invalidation happens on every deploy.\n',
  'old/onboarding.md': '# Onboarding\n\nThe onboarding checklist for new hires.\n',
  'old/more.md': '# More\n\nMore onboarding notes.\n',
  '.gitignore': 'private/\n',
};

test('an update of only the changed paths equals a full re-index: modified, added, deleted, a deleted folder, ignored and unsupported paths', async () => {
  const docs = await makeTempDir('changed-docs');
  await writeTree(docs, FIRST);
  const storeDir = await makeTempDir('changed-store');
  await indexInto(docs, storeDir);

  await fs.appendFile(path.join(docs, 'keys.md'), '\n## Schedule\n\nRotate signing keys before they expire; deploy the new keys.\n');
  await writeTree(docs, { 'guide/rollback.md': '# Rollback\n\nRollback steps: redeploy the previous release.\n', 'private/secret.md': '# Private\n\nrotate signing keys here\n', 'diagram.png': 'not a doc' });
  await fs.rm(path.join(docs, 'guide/cache.rst'));
  await fs.rm(path.join(docs, 'old'), { recursive: true });
  const changed = [path.join(docs, 'keys.md'), 'guide/rollback.md', 'guide/cache.rst', 'old', 'private/secret.md', 'diagram.png', 'never-existed.md', '../outside.md'];
  const report = await indexInto(docs, storeDir, changed);
  assert.equal(report.fullWalk, undefined, 'only the changed paths were judged');
  assert.equal(report.filesIndexed, 2, 'keys.md and guide/rollback.md');
  assert.equal(report.filesDeleted, 3, 'guide/cache.rst and both files of the deleted folder');
  assert.equal(report.filesUnchanged, 0, 'no other file was looked at');
  assert.deepEqual(
    report.skipped.map((skip) => `${skip.path} ${skip.reason}`).sort(),
    ['diagram.png unsupported', 'private/ ignored'],
  );

  const reference = await makeTempDir('changed-reference');
  await indexInto(docs, reference);
  assert.deepEqual(await observed(storeDir), await observed(reference));
  // A full walk afterwards finds nothing the update missed.
  const after = await indexInto(docs, storeDir);
  assert.deepEqual([after.filesIndexed, after.filesDeleted, after.generation], [0, 0, report.generation]);
});

test('changed paths whose fate depends on other files, or a store a run left unfinished, walk the whole folder', async () => {
  const docs = await makeTempDir('changed-walk-docs');
  await writeTree(docs, { ...FIRST, 'site/page.html': '<h1>Page</h1><p>Deploy rollback steps.</p>' });
  const storeDir = await makeTempDir('changed-walk-store');
  const first = await indexInto(docs, storeDir, ['keys.md']);
  assert.equal(first.fullWalk, 'the folder was never indexed');
  assert.equal(first.filesIndexed, 6);

  // A new ignore rule drops files the paths given do not name.
  await fs.writeFile(path.join(docs, '.gitignore'), 'private/\nold/\n');
  const ignored = await indexInto(docs, storeDir, ['.gitignore']);
  assert.equal(ignored.fullWalk, '.gitignore is an ignore file');
  assert.equal(ignored.filesDeleted, 2);

  // A folder that appeared: everything in it.
  await writeTree(docs, { 'more/a.md': '# A\n\ncache invalidation notes\n', 'more/b.md': '# B\n\nonboarding checklist\n' });
  const folder = await indexInto(docs, storeDir, ['more']);
  assert.equal(folder.fullWalk, 'more is a folder or a symbolic link');
  assert.equal(folder.filesIndexed, 2);

  // A Sphinx source copy is dropped while its rendered page is indexed.
  await writeTree(docs, { 'site/_sources/page.rst.txt': 'Page\n====\n\nDeploy rollback steps.\n' });
  const sphinx = await indexInto(docs, storeDir, ['site/_sources/page.rst.txt']);
  assert.equal(sphinx.fullWalk, 'site/_sources/page.rst.txt is a Sphinx source copy or generated page');
  // Its page gone, the copy is indexed in its place.
  await fs.rm(path.join(docs, 'site/page.html'));
  const pageGone = await indexInto(docs, storeDir, ['site/page.html']);
  assert.equal(pageGone.fullWalk, 'site/page.html came or went beside Sphinx source copies');
  assert.ok((await DocStore.open(storeDir)).file('site/_sources/page.rst.txt'));

  const reference = await makeTempDir('changed-walk-reference');
  await indexInto(docs, reference);
  assert.deepEqual(await observed(storeDir), await observed(reference));

  // A run stopped after a checkpoint left files it had not reached: only a walk finds them.
  const unfinished = await DocStore.open(storeDir);
  await unfinished.lockForWriting();
  unfinished.removeFile('keys.md');
  await unfinished.commit();
  await unfinished.unlock();
  const resumed = await indexInto(docs, storeDir, ['guide/deploy.md']);
  assert.equal(resumed.fullWalk, 'the last index run did not finish');
  assert.equal(resumed.filesIndexed, 1, 'keys.md, which the changed path did not name');
});

test('a changed-paths update takes the writer lock like any run: refused while another writer holds it, the store untouched', async () => {
  const docs = await makeTempDir('changed-lock-docs');
  await writeTree(docs, FIRST);
  const storeDir = await makeTempDir('changed-lock-store');
  await indexInto(docs, storeDir);
  const before = await observed(storeDir);
  const writer = await DocStore.open(storeDir);
  await writer.lockForWriting();
  try {
    await fs.appendFile(path.join(docs, 'keys.md'), '\nnew text\n');
    await assert.rejects(indexInto(docs, storeDir, ['keys.md']), (error: Error) => error.name === 'StoreError' && /is being written by process/.test(error.message));
  } finally {
    await writer.unlock();
  }
  assert.deepEqual(await observed(storeDir), before);
});
