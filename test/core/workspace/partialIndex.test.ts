/**
 * Answers while the index does not cover the workspace: a run paused or cancelled partway (from
 * its own progress events, so the point it stops at is exact) leaves answers that say how much is
 * indexed at their top, are never cached in memory or in the answer cache file, and are answered
 * in full (and cached) once the run finishes.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { ANSWER_CACHE_FILE } from '../../../src/core/pipeline/answerCacheFile.js';
import type { ChatBackend } from '../../../src/core/pipeline/types.js';
import type { IndexState } from '../../../src/core/workspace/indexState.js';
import { Workspace, type WorkspaceAnswerEvent } from '../../../src/core/workspace/workspace.js';
import { generatedPages, makeTempDir, writeTree } from '../../support/tempDocs.js';

const ROTA = 'Where is the wombat escalation rota kept?';

/** 200 generated pages and, last in path order, the one page that answers ROTA. */
async function docs(pages: number): Promise<string> {
  const root = await makeTempDir('partial-docs');
  await writeTree(root, { ...generatedPages(pages), 'zz-oncall/wombat-rota.md': '# Wombat escalation rota\n\nThe wombat escalation rota is kept in the quokka binder on the third floor.\n' });
  return root;
}

async function waitFor(what: string, probe: () => boolean): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test('a question while indexing is paused says how much is indexed and is never cached; after the run it is answered in full and cached', async () => {
  const root = await docs(200);
  const storeDir = await makeTempDir('partial-store');
  const states: IndexState[] = [];
  let paused = false;
  const workspace: Workspace = new Workspace(
    { folders: [{ name: 'docs', root, storeDir }], createStores: true, embedder: 'none' },
    {
      sink: (event) => {
        if (event.type === 'indexState') states.push(event.state);
        if (event.type === 'fileProgress' && event.progress.filesDone >= 80 && !paused) {
          paused = true;
          workspace.pauseIndexing();
        }
      },
    },
  );
  try {
    await assert.rejects(workspace.index(), (error: Error) => error.name === 'AbortError');
    await waitFor('the paused state', () => states.at(-1)?.state === 'paused');
    const shown = states.at(-1)!.partial;
    assert.equal(shown?.state, 'paused');
    assert.equal(shown?.filesTotal, 201, 'the run listed every file before it was paused');
    assert.ok(shown.filesIndexed >= 80 && shown.filesIndexed < 201, `indexed so far: ${shown.filesIndexed}`);

    const tokens: string[] = [];
    const onEvent = (event: WorkspaceAnswerEvent) => event.type === 'token' && tokens.push(event.text);
    const partial = await workspace.ask({ question: 'How do I configure vacuum?' }, onEvent);
    assert.deepEqual(partial.partialIndex, shown);
    assert.ok(
      partial.answer.startsWith(`⚠ Indexing is paused: ${shown.filesIndexed} of 201 files indexed — this answer may miss pages. Resume indexing for a complete answer.\n\n`),
      partial.answer.slice(0, 200),
    );
    assert.match(partial.citations[0]?.path ?? '', /page-\d+\.md$/, 'what is indexed is still searched and cited');
    assert.equal(tokens[0], partial.answer.slice(0, partial.answer.indexOf('\n\n') + 2), 'the notice streams first');
    assert.equal(tokens.join(''), partial.answer);

    const missing = await workspace.ask({ question: ROTA });
    assert.equal(missing.partialIndex?.state, 'paused');
    assert.ok(!missing.citations.some((citation) => citation.path.includes('wombat')), 'the page the run has not reached is not cited');
    // Asked again: produced again, nothing kept in any cache level.
    assert.equal((await workspace.ask({ question: ROTA })).cached, false);
    assert.equal((await workspace.ask({ question: 'How do I configure vacuum?' })).cached, false);
    const caches = (await workspace.metrics()).metrics!.caches;
    assert.deepEqual([caches.answer.entries, caches.negative.entries], [0, 0]);

    workspace.resumeIndexing();
    await waitFor('the ready state', () => states.at(-1)?.state === 'ready');
    assert.equal(states.at(-1)?.partial, undefined, 'a finished run leaves nothing partial');
    const full = await workspace.ask({ question: ROTA });
    assert.equal(full.partialIndex, undefined);
    assert.equal(full.cached, false);
    assert.doesNotMatch(full.answer, /Indexing is|may miss pages/);
    assert.equal(full.citations[0]?.path, 'zz-oncall/wombat-rota.md');
    const again = await workspace.ask({ question: ROTA });
    assert.equal(again.cached, true, 'the complete answer is cached');
    assert.equal(again.answer, full.answer);
  } finally {
    await workspace.close();
  }
  const file = await fs.readFile(path.join(storeDir, ANSWER_CACHE_FILE), 'utf8');
  assert.match(file, /quokka binder/, 'the complete answer is in the cache file');
  assert.doesNotMatch(file, /may miss pages/, 'no partial answer is');
});

test('a cancelled run leaves generated answers saying the index is incomplete, in this process and in the next one', async () => {
  const root = await docs(120);
  const storeDir = await makeTempDir('partial-store');
  let cancelled = false;
  const workspace: Workspace = new Workspace(
    { folders: [{ name: 'docs', root, storeDir }], createStores: true, embedder: 'none', indexing: { checkpointFiles: 20 } },
    {
      sink: (event) => {
        if (event.type === 'fileProgress' && event.progress.filesDone >= 50 && !cancelled) {
          cancelled = true;
          workspace.cancelIndexing();
        }
      },
    },
  );
  const model: ChatBackend = {
    identity: ['test', 'model'],
    stream: async (_messages, options) => {
      options.onToken('Vacuum is configured in the config file [1].');
      return 'Vacuum is configured in the config file [1].';
    },
    complete: async () => '',
  };
  try {
    await assert.rejects(workspace.index(), (error: Error) => error.name === 'AbortError');
    const answer = await workspace.ask({ question: 'How do I configure vacuum?', backend: model });
    assert.equal(answer.mode, 'generated');
    assert.equal(answer.partialIndex?.state, 'stopped');
    assert.equal(
      answer.answer,
      `⚠ The index is incomplete: its last run stopped at ${answer.partialIndex.filesIndexed} of 121 files — this answer may miss pages. Reindex for a complete answer.\n\nVacuum is configured in the config file [1].`,
    );
    assert.equal(answer.citations.length, 1, 'the notice does not disturb the citations');
    assert.equal((await workspace.ask({ question: 'How do I configure vacuum?', backend: model })).cached, false);
  } finally {
    await workspace.close();
  }
  // A new process (docent ask on the store) knows only what the checkpoints committed.
  const reader = await Workspace.open({ folders: [{ name: 'docs', storeDir }] });
  try {
    const answer = await reader.ask({ question: 'How do I configure vacuum?' });
    const committed = (await reader.storeInfo())[0]!;
    assert.ok(committed.incomplete, 'the store says its last run stopped');
    assert.deepEqual(answer.partialIndex, { state: 'stopped', filesIndexed: committed.files });
    assert.ok(answer.answer.startsWith(`⚠ The index is incomplete: its last run stopped at ${committed.files} files — this answer may miss pages.`), answer.answer.slice(0, 200));
  } finally {
    await reader.close();
  }
});
