/**
 * The extension host's client of the core process (src/extension/coreProcess/client.ts, which
 * needs no vscode) against the real built dist/coreProcess.js: when the process dies, every
 * request still waiting for a reply is settled with a clear error instead of hanging.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import type { WorkspaceOptions } from '../../../src/core/workspace/options.js';
import { CoreProcessClient } from '../../../src/extension/coreProcess/client.js';
import { generatedPages, makeTempDir, writeTree } from '../../support/tempDocs.js';
import { waitUntil } from '../../support/waitUntil.js';

const DIST = path.resolve(__dirname, '../../../dist');
const skip = existsSync(path.join(DIST, 'coreProcess.js')) ? false : 'dist/coreProcess.js is missing (npm run build)';

const OPTIONS: WorkspaceOptions = { folders: [], embedder: 'none' };

/** A model hub that takes requests and never answers, so a pull stays in flight. */
let hub: Server;
const hubRequests: string[] = [];
const previousEndpoint = process.env.DOCENT_HF_ENDPOINT;

before(async () => {
  hub = createServer((request) => hubRequests.push(request.url ?? ''));
  await new Promise<void>((resolve) => hub.listen(0, '127.0.0.1', resolve));
  // The core process inherits the environment it is forked with.
  process.env.DOCENT_HF_ENDPOINT = `http://127.0.0.1:${(hub.address() as AddressInfo).port}`;
});

after(async () => {
  if (previousEndpoint === undefined) delete process.env.DOCENT_HF_ENDPOINT;
  else process.env.DOCENT_HF_ENDPOINT = previousEndpoint;
  hub.closeAllConnections();
  await new Promise((resolve) => hub.close(resolve));
});

function settlesWithin<T>(promise: Promise<T>, ms: number): Promise<T> {
  return Promise.race([promise, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`still pending ${ms} ms after the process died`)), ms).unref())]);
}

test('a model pull in flight rejects with a clear error when the core process dies', { skip, timeout: 30_000 }, async () => {
  const logs: string[] = [];
  const client = new CoreProcessClient(DIST, { onIndexState: () => {}, onLog: (_level, message) => logs.push(message) });
  client.configure(OPTIONS);
  try {
    const pull = client.pullModel('docent-test/never-answers', await makeTempDir('pull-cache'), () => {});
    await waitUntil('the pull to reach the hub', () => hubRequests.length > 0, 10_000);
    const pid = client.pid;
    assert.ok(pid, 'the core process is running');
    process.kill(pid, 'SIGKILL');
    await assert.rejects(settlesWithin(pull, 5_000), /core process stopped/);
    assert.ok(logs.some((line) => /exited/.test(line)), logs.join('\n'));
  } finally {
    client.dispose();
  }
});

test('answers survive the core process: a new one (a reloaded window) serves them from the store folder', { skip, timeout: 120_000 }, async () => {
  const docs = await makeTempDir('reload-docs');
  await writeTree(docs, generatedPages(6));
  const storeDir = path.join(await makeTempDir('reload-store'), 'store');
  const options: WorkspaceOptions = { folders: [{ name: 'docs', root: docs, storeDir }], createStores: true, embedder: 'none' };
  const askOnce = async () => {
    const client = new CoreProcessClient(DIST, { onIndexState: () => {}, onLog: () => {} });
    client.configure(options);
    let text = '';
    await client.ask({ question: 'how do I configure backups?' }, { onToken: (token) => (text += token), onSources: () => {} }, new AbortController().signal);
    const { metrics } = await client.metrics();
    const pid = client.pid!;
    client.dispose(); // what deactivating the extension does
    await waitUntil('the core process to exit', () => !isRunning(pid), 10_000);
    return { text, hits: metrics!.caches.answer.hits };
  };
  const first = await askOnce();
  assert.equal(first.hits, 0);
  assert.match(first.text, /backups/);
  const second = await askOnce();
  assert.equal(second.hits, 1, 'the second process found the answer in the store folder');
  assert.equal(second.text, first.text);
});

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
