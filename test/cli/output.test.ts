import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { Workspace } from '../../src/core/workspace/workspace.js';
import { CLI_PATH, runDocent } from '../support/cli.js';
import { generatedPages, makeTempDir, writeTree } from '../support/tempDocs.js';

test('info says a store left by a stopped index run is incomplete and why, until an index run finishes it', async () => {
  assert.ok(existsSync(CLI_PATH), 'dist/cli.js missing: run "npm run build" first (npm test does)');
  const docs = await makeTempDir('output-docs');
  await writeTree(docs, generatedPages(12));
  const store = path.join(await makeTempDir('output-store'), 'store');
  // A real index run, checkpointing every 2 files, stopped (as Ctrl-C does) after 5 files.
  const controller = new AbortController();
  const workspace = new Workspace(
    { folders: [{ name: 'docs', root: docs, storeDir: store }], createStores: true, embedder: 'none', indexing: { checkpointFiles: 2 } },
    { sink: (event) => event.type === 'fileProgress' && event.progress.filesDone >= 5 && controller.abort() },
  );
  await assert.rejects(workspace.index(undefined, controller.signal), { name: 'AbortError' });
  await workspace.close();

  const stopped = await runDocent(['info', '--store', store]);
  assert.equal(stopped.code, 0, stopped.stderr);
  assert.match(stopped.stdout, /status +INCOMPLETE: the first index run stopped before it finished \(cancelled or killed after a checkpoint\)/);
  assert.match(stopped.stdout, /run "docent index <folder> --store .*store" again to finish it/);
  const files = Number(/files +(\d+)/.exec(stopped.stdout)![1]);
  assert.ok(files >= 2 && files < 12, `a checkpoint's worth of files: ${files}`);
  const json = JSON.parse((await runDocent(['info', '--store', store, '--json'])).stdout);
  assert.equal(json.complete, false);
  assert.match(json.incompleteReason, /stopped before it finished/);

  assert.equal((await runDocent(['index', docs, '--store', store, '--embedder', 'none'])).code, 0);
  const finished = await runDocent(['info', '--store', store]);
  assert.match(finished.stdout, /status +complete\n/);
  assert.match(finished.stdout, /files +12\n/);
  assert.equal(JSON.parse((await runDocent(['info', '--store', store, '--json'])).stdout).complete, true);
  // An index run with nothing to do keeps it complete.
  assert.equal((await runDocent(['index', docs, '--store', store, '--embedder', 'none'])).code, 0);
  assert.match((await runDocent(['info', '--store', store])).stdout, /status +complete\n/);
});

test('the device line says CPU plainly; why the GPU was passed over only under --verbose or in --json', async () => {
  const docs = await makeTempDir('device-docs');
  await writeTree(docs, generatedPages(3));
  const store = path.join(await makeTempDir('device-store'), 'store');
  const index = await runDocent(['index', docs, '--store', store]);
  assert.equal(index.code, 0, index.stderr);
  assert.match(index.stdout, /\n {2}device {10}CPU, \d+ chunks\/s\n/);
  assert.doesNotMatch(index.stdout, /fell back|table lookup/);
  const info = await runDocent(['info', '--store', store]);
  assert.match(info.stdout, /\n {2}device {5}CPU\n/);
  const verbose = await runDocent(['info', '--store', store, '--verbose']);
  assert.match(verbose.stdout, /\n {2}device {5}CPU \(fell back: .*table lookup.*\)\n/);
  await writeTree(docs, { 'new.md': '# New\n\nA page the next run embeds.\n' });
  const verboseIndex = await runDocent(['index', docs, '--store', store, '--verbose']);
  assert.match(verboseIndex.stdout, /device +CPU \(fell back: .*table lookup/);
  assert.ok(JSON.parse((await runDocent(['info', '--store', store, '--json'])).stdout).fallbackReasons.length > 0);
});

test('control characters in file names and passages never reach the terminal raw', async () => {
  const docs = await makeTempDir('control-docs');
  const evil = 'evil\u001b]0;owned\u0007\u001b[2J.md';
  await writeTree(docs, {
    [evil]: '# Escape \u001b[31mred\u001b[0m heading\n\nThe zebracorn rotation procedure \u001b]8;;http://x.invalid\u0007link\u001b]8;;\u0007 is here.\n',
    'skipped\u0007name.md': '\u0000binary\u0000',
  });
  const store = path.join(await makeTempDir('control-store'), 'store');
  const index = await runDocent(['index', docs, '--store', store, '--embedder', 'none']);
  assert.equal(index.code, 0, index.stderr);
  assert.match(index.stderr, /skipped skipped\\x07name\.md: /);
  const query = await runDocent(['query', 'zebracorn rotation', '--store', store]);
  assert.equal(query.code, 0, query.stderr);
  assert.match(query.stdout, /^1\. evil\\x1b\]0;owned\\x07\\x1b\[2J\.md:1-3 — Escape \\x1b\[31mred\\x1b\[0m heading /);
  assert.match(query.stdout, /The zebracorn rotation procedure link is here\./, 'escape sequences in prose are removed whole');
  const ask = await runDocent(['ask', 'zebracorn rotation', '--store', store]);
  assert.equal(ask.code, 0, ask.stderr);
  for (const output of [index.stdout, index.stderr, query.stdout, query.stderr, ask.stdout, ask.stderr]) {
    assert.doesNotMatch(output, /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/, 'no raw control character');
  }
  assert.match(ask.stdout, /\[1\] evil\\x1b\]0;owned\\x07\\x1b\[2J\.md:1-3/);
  // --json keeps the exact text: JSON escapes it, and tools need the real name.
  const json = JSON.parse((await runDocent(['query', 'zebracorn rotation', '--store', store, '--json'])).stdout);
  assert.equal(json.hits[0].path, evil);
});

test('a reader that closes the pipe early (docent ask … | head) ends the command quietly, not with an EPIPE stack', async () => {
  const docs = await makeTempDir('epipe-docs');
  await writeTree(docs, generatedPages(3));
  const store = path.join(await makeTempDir('epipe-store'), 'store');
  assert.equal((await runDocent(['index', docs, '--store', store, '--embedder', 'none'])).code, 0);
  for (const args of [['ask', 'page one', '--store', store], ['query', 'page one', '--store', store]]) {
    // The read end is closed before the command writes anything, so its first write meets a closed pipe.
    const child = spawn(process.execPath, [CLI_PATH, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const [code] = (await once(child, 'close')) as [number];
    assert.equal(code, 0, `${args[0]}: ${stderr}`);
    assert.doesNotMatch(stderr, /EPIPE|Unhandled/, args[0]);
  }
});
