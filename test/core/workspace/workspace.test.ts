/**
 * The workspace facade (src/core/workspace/workspace.ts) over real folders and stores on disk:
 * several folders searched and cited as one, index runs through the scheduler and their events,
 * a first question waiting for the first index, reconfiguration, and the one embedder resolver.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { HashingEmbedder } from '../../../src/core/embedding/hashingEmbedder.js';
import { StoreError } from '../../../src/core/store.js';
import { EmbedderChoiceError, resolveEmbedder } from '../../../src/core/workspace/embedderChoice.js';
import type { IndexState } from '../../../src/core/workspace/indexState.js';
import type { WorkspaceEvent, WorkspaceOptions } from '../../../src/core/workspace/options.js';
import { Workspace } from '../../../src/core/workspace/workspace.js';
import { generatedPages, makeTempDir, writeTree } from '../../support/tempDocs.js';

async function twoFolders(): Promise<WorkspaceOptions> {
  const handbook = await makeTempDir('handbook');
  const platform = await makeTempDir('platform');
  await writeTree(handbook, { 'onboarding.md': '# Onboarding\n\nYour first week: laptop, accounts and a buddy.\n' });
  await writeTree(platform, {
    'billing/ledger.md': '# Ledger reconciliation\n\nThe quokka ledger reconciliation job runs nightly at 02:00 UTC.\n',
  });
  return {
    folders: [
      { name: 'handbook', root: handbook, storeDir: await makeTempDir('handbook-store') },
      { name: 'platform', root: platform, storeDir: await makeTempDir('platform-store') },
    ],
    createStores: true,
    embedder: 'hashing',
  };
}

test('several folders are indexed, searched and cited as one workspace', async () => {
  const states: IndexState[] = [];
  const workspace = new Workspace(await twoFolders(), { sink: (event) => event.type === 'indexState' && states.push(event.state) });
  try {
    const reports = await workspace.index();
    assert.deepEqual(reports.map(({ folder, report }) => [folder, report.filesIndexed]), [['handbook', 1], ['platform', 1]]);
    assert.deepEqual([states[0]?.state, states.at(-1)?.state, states.at(-1)?.percent], ['indexing', 'ready', 100]);
    assert.deepEqual([states.at(-1)?.files, states.at(-1)?.chunks], [2, 2]);

    const [hit] = await workspace.search('quokka ledger reconciliation', { k: 1 });
    assert.equal(hit?.chunk.path, 'platform/billing/ledger.md');
    const sources: string[] = [];
    const answer = await workspace.ask({ question: 'When does the quokka ledger reconciliation run?' }, (event) => {
      if (event.type === 'sources') sources.push(...event.citations.map((citation) => `${citation.folder}:${citation.path}`));
    });
    assert.equal(answer.mode, 'retrieval-only');
    assert.equal(`${answer.citations[0]?.folder}:${answer.citations[0]?.path}`, 'platform:billing/ledger.md');
    assert.deepEqual(sources, answer.citations.map((citation) => `${citation.folder}:${citation.path}`));
    assert.deepEqual((await workspace.metrics()).totals.files, 2);
    assert.deepEqual((await workspace.storeInfo()).map((store) => [store.folder, store.files, store.embedder?.spec]), [
      ['handbook', 1, 'hashing'],
      ['platform', 1, 'hashing'],
    ]);
  } finally {
    await workspace.close();
  }
});

test('a store opened without a model searches with the one it was built with; a missing store is a StoreError', async () => {
  const options = await twoFolders();
  const writer = await Workspace.open({ ...options, folders: [options.folders[1]!] });
  await writer.index();
  await writer.close();
  const reader = await Workspace.open({ folders: [{ name: 'platform', storeDir: options.folders[1]!.storeDir }] });
  try {
    const [hit] = await reader.search('quokka ledger', { k: 1 });
    // One folder: paths are the folder's own, and citations name no folder.
    assert.equal(hit?.chunk.path, 'billing/ledger.md');
    assert.equal((await reader.ask({ question: 'quokka ledger' })).citations[0]?.folder, '');
  } finally {
    await reader.close();
  }
  await assert.rejects(Workspace.open({ folders: [{ name: 'none', storeDir: path.join(await makeTempDir('nostore'), 'store') }] }), StoreError);
});

test('a first question waits for the first index run; requests made meanwhile join one run', async () => {
  const root = await makeTempDir('docs');
  await writeTree(root, generatedPages(12));
  const events: WorkspaceEvent[] = [];
  const workspace = new Workspace(
    { folders: [{ name: 'docs', root, storeDir: await makeTempDir('store') }], createStores: true, embedder: 'none' },
    { sink: (event) => events.push(event) },
  );
  try {
    const answer = await workspace.ask({ question: 'How do I configure vacuum?' });
    assert.match(answer.citations[0]?.path ?? '', /page-3\.md$/);
    const runs = events.filter((event) => event.type === 'log' && event.message.startsWith('indexing docs'));
    assert.equal(runs.length, 1, 'the question started exactly one run');
    assert.ok(events.some((event) => event.type === 'fileProgress' && event.progress.phase === 'done'));

    await fs.appendFile(path.join(root, 'section-1/page-1.md'), '\n## Escalation\n\nPage the wombat team.\n');
    const [first, second] = await Promise.all([workspace.index(['docs']), workspace.index(['docs'])]);
    // The second request arrived while the first run was busy or about to start: both settle with reports.
    assert.ok(first.length === 1 && second.length === 1);
    assert.equal((await workspace.search('wombat escalation', { k: 1 }))[0]?.chunk.path, 'section-1/page-1.md');
  } finally {
    await workspace.close();
  }
});

test('cancel rejects the waiting request with an AbortError and reports the run cancelled; pause and resume index again', async () => {
  const root = await makeTempDir('docs');
  await writeTree(root, generatedPages(300));
  const states: string[] = [];
  const workspace = new Workspace(
    { folders: [{ name: 'docs', root, storeDir: await makeTempDir('store') }], createStores: true, embedder: 'none', indexing: { checkpointFiles: 20 } },
    { sink: (event) => event.type === 'indexState' && states.push(event.state.state) },
  );
  try {
    const run = workspace.index();
    await waitForState(states, 'indexing');
    workspace.cancelIndexing();
    await assert.rejects(run, (error: Error) => error.name === 'AbortError');
    await waitForState(states, 'cancelled');

    const resumed = workspace.index();
    workspace.pauseIndexing();
    await assert.rejects(resumed, (error: Error) => error.name === 'AbortError');
    await waitForState(states, 'paused');
    workspace.resumeIndexing();
    await waitForState(states, 'ready');
    assert.equal((await workspace.metrics()).totals.files, 300);
  } finally {
    await workspace.close();
  }
});

test('a folder whose model cannot be made fails its run once, with an error state, and is not retried in a loop', async () => {
  const root = await makeTempDir('docs');
  await writeTree(root, generatedPages(2));
  const events: WorkspaceEvent[] = [];
  const missingModel = path.join(await makeTempDir('models'), 'gone');
  const workspace = new Workspace(
    { folders: [{ name: 'docs', root, storeDir: await makeTempDir('store') }], createStores: true, embedder: missingModel },
    { sink: (event) => events.push(event) },
  );
  await assert.rejects(workspace.index(), (error: Error) => error instanceof EmbedderChoiceError && error.message.includes(missingModel));
  await new Promise((resolve) => setTimeout(resolve, 200));
  const errors = events.filter((event) => event.type === 'indexState' && event.state.state === 'error');
  assert.equal(errors.length, 1, `one error state, not a retry loop (${errors.length})`);
  await workspace.close();
});

test('reconfiguring the answers keeps the stores; changing the model reopens them and re-embeds every folder', async () => {
  const options = await twoFolders();
  const states: IndexState[] = [];
  const workspace = new Workspace(options, { sink: (event) => event.type === 'indexState' && states.push(event.state) });
  try {
    await workspace.index();
    await workspace.ask({ question: 'When does the ledger job run?' });
    await workspace.reconfigure({ ...options, answers: { limits: { k: 1 } } });
    assert.equal((await workspace.ask({ question: 'quokka ledger onboarding laptop' })).citations.length, 1);
    const metrics = (await workspace.metrics()).metrics!;
    assert.equal(metrics.requests, 2, 'the rebuilt pipeline carries on counting (Show Metrics survives a settings change)');
    assert.equal(metrics.stages.total?.count, 2);
    const before = states.length;
    await workspace.reconfigure({ ...options, embedder: 'none' });
    await waitForState(states, 'ready', before);
    assert.deepEqual((await workspace.storeInfo()).map((store) => store.embedder), [null, null]);
  } finally {
    await workspace.close();
  }
});

test('the embedder resolver: the named models, a model folder, and clear errors', () => {
  assert.deepEqual(resolveEmbedder('none'), { embedder: undefined, spec: 'none' });
  assert.ok(resolveEmbedder('hashing').embedder instanceof HashingEmbedder);
  assert.match(resolveEmbedder('default').embedder?.id ?? '', /^docent-static-256d-/);
  assert.match(resolveEmbedder('static').embedder?.id ?? '', /^docent-static-256d-/);
  assert.match(resolveEmbedder('glove-sif').embedder?.id ?? '', /^glove-6b-100d-sif-/);
  assert.throws(() => resolveEmbedder('/nonexistent/model'), /unknown embedder "\/nonexistent\/model" \(choose default\|static\|glove-sif\|hashing\|none\|<model folder>\)/);
  assert.throws(() => resolveEmbedder(path.resolve(__dirname)), (error: Error) => error instanceof EmbedderChoiceError && /not a sentence-transformers ONNX model folder/.test(error.message));
});

async function waitForState(states: (string | IndexState)[], wanted: string, from = 0): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!states.slice(from).some((state) => (typeof state === 'string' ? state : state.state) === wanted)) {
    if (Date.now() > deadline) throw new Error(`no ${wanted} state; saw ${states.slice(from).map((state) => (typeof state === 'string' ? state : state.state)).join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test('readPassage reads exact lines of indexed files only; without the folder, the indexed text', async () => {
  const options = await twoFolders();
  const workspace = new Workspace(options);
  try {
    await workspace.index();
    const passage = await workspace.readPassage('platform/billing/ledger.md', 3, 99);
    assert.deepEqual(passage, {
      path: 'platform/billing/ledger.md',
      startLine: 3,
      endLine: 3,
      totalLines: 3,
      text: 'The quokka ledger reconciliation job runs nightly at 02:00 UTC.',
      source: 'file',
    });
    for (const outside of ['platform/../handbook/onboarding.md', 'platform/billing/missing.md', 'billing/ledger.md', '/etc/passwd']) {
      await assert.rejects(workspace.readPassage(outside, 1, 2), (error: Error) => error.name === 'PassageError' && /is not an indexed file/.test(error.message), outside);
    }
    await assert.rejects(workspace.readPassage('platform/billing/ledger.md', 4, 5), /has 3 lines; startLine 4 is past its end/);
    await assert.rejects(workspace.readPassage('platform/billing/ledger.md', 3, 2), /not a range/);
  } finally {
    await workspace.close();
  }
  const storeOnly = new Workspace({ folders: [{ name: 'platform', storeDir: options.folders[1]!.storeDir }] });
  try {
    const passage = await storeOnly.readPassage('billing/ledger.md', 1, 3);
    assert.equal(passage.source, 'index');
    assert.match(passage.text, /quokka ledger reconciliation job runs nightly/);
  } finally {
    await storeOnly.close();
  }
});
