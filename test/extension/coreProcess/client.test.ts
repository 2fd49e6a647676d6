/**
 * The extension host's client of the core process (src/extension/coreProcess/client.ts, which
 * needs no vscode) against the real built dist/coreProcess.js: when the process dies, every
 * request still waiting for a reply is settled with a clear error instead of hanging.
 */
import assert from 'node:assert/strict';
import { existsSync, promises as fs } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { DocStore } from '../../../src/core/store.js';
import type { WorkspaceOptions } from '../../../src/core/workspace/options.js';
import { AskFailure, CoreProcessClient, type GenerateSink } from '../../../src/extension/coreProcess/client.js';
import type { GenerateRequest } from '../../../src/extension/coreProcess/protocol.js';
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
  const client = new CoreProcessClient(DIST, { onIndexState: () => {}, onLog: (_level, message) => logs.push(message), onGenerate: () => assert.fail('no model is asked for') });
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

/** The backend `editor`: the core process asks the host for the model's answer over IPC. */
async function editorBackendClient(onGenerate: (request: GenerateRequest, sink: GenerateSink, signal: AbortSignal) => void): Promise<CoreProcessClient> {
  const docs = await makeTempDir('editor-docs');
  await writeTree(docs, { 'runbooks/keys.md': '# Rotating keys\n\nRotate the quokka signing keys every 90 days with `lumenctl keys rotate`.\n' });
  const client = new CoreProcessClient(DIST, { onIndexState: () => {}, onLog: () => {}, onGenerate });
  client.configure({ folders: [{ name: 'docs', root: docs, storeDir: await makeTempDir('editor-store') }], createStores: true, embedder: 'hashing', answers: { editorModel: 'test-model' } });
  return client;
}

const handlers = (tokens: string[]) => ({ onToken: (text: string) => tokens.push(text), onSources: () => {} });

test('backend editor: the prompt goes to the host, the model\'s tokens stream back as the answer', { skip, timeout: 60_000 }, async () => {
  const requests: GenerateRequest[] = [];
  const client = await editorBackendClient((request, sink) => {
    requests.push(request);
    for (const text of ['Rotate them ', 'every 90 days [1].']) sink.token(text);
    sink.done();
  });
  try {
    const tokens: string[] = [];
    const outcome = await client.ask({ question: 'how often do I rotate the quokka signing keys?' }, handlers(tokens), new AbortController().signal);
    assert.equal(outcome.mode, 'generated');
    assert.equal(tokens.join(''), 'Rotate them every 90 days [1].');
    assert.equal(requests.length, 1);
    assert.equal(requests[0]!.modelId, 'test-model');
    assert.ok(requests[0]!.maxTokens > 0);
    assert.match(requests[0]!.messages.map((message) => message.content).join('\n'), /\[1\] runbooks\/keys\.md:1-3[^]*lumenctl keys rotate/);
  } finally {
    client.dispose();
  }
});

test('backend editor: a refused model degrades to the passages with its reason; cancelling reaches the host', { skip, timeout: 60_000 }, async () => {
  let hold: AbortSignal | undefined;
  const client = await editorBackendClient((request, sink, signal) => {
    if (request.messages.some((message) => /hold on/.test(message.content))) hold = signal;
    else sink.done({ kind: 'rejected', message: 'Docent may not use the editor\'s model yet: allow it when the editor asks' });
  });
  try {
    const refused = await client.ask({ question: 'how often do I rotate the quokka signing keys?' }, handlers([]), new AbortController().signal);
    assert.equal(refused.mode, 'extractive');
    assert.match(refused.degradedReason ?? '', /may not use the editor's model yet/);

    const cancel = new AbortController();
    const asking = client.ask({ question: 'hold on: how often do I rotate the quokka signing keys, and with which command?' }, handlers([]), cancel.signal);
    await waitUntil('the model to be asked', () => hold !== undefined, 20_000);
    cancel.abort();
    await assert.rejects(asking, (error: unknown) => error instanceof AskFailure && error.reason === 'aborted');
    await waitUntil('the host to see the cancel', () => hold!.aborted, 5_000);
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
    const client = new CoreProcessClient(DIST, { onIndexState: () => {}, onLog: () => {}, onGenerate: () => assert.fail('no model is asked for') });
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

test('the watcher\'s changed paths reach the core process: it re-indexes those files alone', { skip, timeout: 120_000 }, async () => {
  const docs = await makeTempDir('watch-docs');
  await writeTree(docs, generatedPages(6));
  const storeDir = path.join(await makeTempDir('watch-store'), 'store');
  const states: string[] = [];
  const client = new CoreProcessClient(DIST, { onIndexState: (state) => states.push(state.state), onLog: () => {}, onGenerate: () => assert.fail('no model is asked for') });
  try {
    client.configure({ folders: [{ name: 'docs', root: docs, storeDir }], createStores: true, embedder: 'none' });
    client.index();
    await waitUntil('the first run to end', () => states.includes('ready'), 60_000);
    const [first] = (await fs.readdir(docs, { recursive: true })).filter((name) => String(name).endsWith('.md')).sort();
    await fs.appendFile(path.join(docs, String(first)), '\nThe zanzibar quorum is renewed hourly.\n');
    states.length = 0;
    client.indexChanged('docs', [path.join(docs, String(first))]);
    await waitUntil('the changed-paths run to end', () => states.includes('ready'), 60_000);
    const store = await DocStore.open(storeDir);
    const [hit] = store.searchPassages('zanzibar quorum', 1);
    assert.equal(store.chunkPath(hit!.id), String(first).split(path.sep).join('/'));
  } finally {
    client.dispose();
  }
});
