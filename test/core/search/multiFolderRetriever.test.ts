/**
 * Multi-root retrieval (src/core/search/multiFolderRetriever.ts): folders are
 * separate indexes, merged on the shared relevance scale, so the folder that answers comes first.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { before, test } from 'node:test';
import { HashingEmbedder } from '../../../src/core/embedding/hashingEmbedder.js';
import { indexFolder } from '../../../src/core/indexer.js';
import { HybridRetriever } from '../../../src/core/search/hybrid.js';
import { DocStore } from '../../../src/core/store.js';
import { MultiFolderRetriever } from '../../../src/core/search/multiFolderRetriever.js';
import { makeTempDir } from '../../support/tempDocs.js';

const QUESTION = 'When does the quokka ledger reconciliation job run?';
let handbook: HybridRetriever;
let platform: HybridRetriever;

async function folderRetriever(name: string, files: Record<string, string>): Promise<HybridRetriever> {
  const root = await makeTempDir(name);
  for (const [file, text] of Object.entries(files)) {
    await fs.mkdir(path.dirname(path.join(root, file)), { recursive: true });
    await fs.writeFile(path.join(root, file), text);
  }
  const store = await DocStore.open(await makeTempDir(`${name}-store`), { create: true });
  const embedder = new HashingEmbedder();
  await indexFolder(root, store, { embedder });
  return new HybridRetriever(store, embedder);
}

before(async () => {
  // The first folder matches the question's common words only; the second one answers it.
  handbook = await folderRetriever('handbook', {
    'faq.md': '# FAQ\n\n## When does a job run?\n\nA job runs when its schedule says so. Ask in #platform when a job did not run.\n',
    'onboarding.md': '# Onboarding\n\nYour first week: laptop, accounts, and a buddy.\n',
  });
  // One page only: on its own statistics every term is in every document, so its IDF is tiny.
  platform = await folderRetriever('platform', {
    'billing/ledger-reconciliation.md':
      '# Ledger reconciliation\n\nThe quokka ledger reconciliation job runs nightly at 02:00 UTC and compares the payments ledger with the bank statements.\n',
  });
});

test('the folder that answers comes first, even when it is listed second and holds a single page', async () => {
  const merged = new MultiFolderRetriever([
    { name: 'handbook', retriever: handbook },
    { name: 'platform-notes', retriever: platform },
  ]);
  const hits = await merged.search(QUESTION, { k: 4 });
  assert.equal(hits[0]?.chunk.path, 'platform-notes/billing/ledger-reconciliation.md');
  assert.ok(hits.some((hit) => hit.chunk.path === 'handbook/faq.md'), 'the other folder still contributes');
  assert.deepEqual(merged.locate(hits[0]!.chunk.path), { folder: { name: 'platform-notes', retriever: platform }, path: 'billing/ledger-reconciliation.md' });
});

test('each folder keeps its own order in the merged list, and relevance falls with it', async () => {
  const merged = await new MultiFolderRetriever([
    { name: 'handbook', retriever: handbook },
    { name: 'platform-notes', retriever: platform },
  ]).search(QUESTION, { k: 10 });
  for (const [name, retriever] of [['handbook', handbook], ['platform-notes', platform]] as const) {
    const own = (await retriever.search(QUESTION, { k: 10 })).map((hit) => `${name}/${hit.chunk.path}`);
    assert.deepEqual(merged.map((hit) => hit.chunk.path).filter((file) => file.startsWith(`${name}/`)), own);
  }
  const relevance = merged.map((hit) => hit.relevance ?? 0);
  assert.deepEqual(relevance, [...relevance].sort((a, b) => b - a));
  assert.ok(relevance[0]! > 0);
});

test('one folder: paths are not prefixed and the list is the folder’s own', async () => {
  const single = new MultiFolderRetriever([{ name: 'platform-notes', retriever: platform }]);
  const hits = await single.search(QUESTION, { k: 3 });
  assert.deepEqual(
    hits.map((hit) => hit.chunk.path),
    (await platform.search(QUESTION, { k: 3 })).map((hit) => hit.chunk.path),
  );
  assert.equal(single.prefixed, false);
});
