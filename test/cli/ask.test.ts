import assert from 'node:assert/strict';
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { CLI_PATH, runDocent } from '../support/cli.js';
import { echoSourcesAnswer, FaultInjectingOpenAIServer, refusedBaseURL } from '../support/openaiStubServer.js';
import { generatedPages, makeTempDir, writeTree } from '../support/tempDocs.js';

let docs: string;
let store: string;
let backend: FaultInjectingOpenAIServer;

before(async () => {
  assert.ok(existsSync(CLI_PATH), 'dist/cli.js missing: run "npm run build" first (npm test does)');
  docs = await makeTempDir('ask-docs');
  store = path.join(await makeTempDir('ask-store'), 'store');
  await writeTree(docs, generatedPages(10));
  assert.equal((await runDocent(['index', docs, '--store', store, '--json'])).code, 0);
  backend = await FaultInjectingOpenAIServer.start();
});

after(async () => backend.close());

test('ask --json with an endpoint: generated answer, numbered citations, key from DOCENT_API_KEY', async () => {
  const { code, stdout } = await runDocent(['ask', 'how do I fix error E1005?', '--store', store, '--endpoint', backend.baseURL, '--model', 'stub', '--json'], {
    DOCENT_API_KEY: 'sk-test-123',
  });
  assert.equal(code, 0);
  const answer = JSON.parse(stdout);
  assert.equal(answer.mode, 'generated');
  assert.equal(answer.cached, false);
  assert.equal(answer.degraded, false);
  assert.match(answer.answer, /\[1\]/);
  assert.ok(answer.citations.length >= 1);
  assert.deepEqual(Object.keys(answer.citations[0]).sort(), ['endLine', 'n', 'path', 'startLine']);
  assert.equal(answer.citations[0].path, 'section-5/page-5.md');
  assert.equal(typeof answer.timings, 'object');
  assert.equal(backend.streamRequests.at(-1)?.headers.authorization, 'Bearer sk-test-123');
});

test('ask streams the answer text, then a numbered Sources list', async () => {
  const { code, stdout } = await runDocent(['ask', 'configure replication', '--store', store, '--endpoint', backend.baseURL, '--model', 'stub']);
  assert.equal(code, 0);
  assert.match(stdout, /According to the documentation/);
  assert.match(stdout, /Sources:\n\[1\] section-\d\/page-\d+\.md:\d+-\d+/);
});

test('ask prints a hostile reply without its terminal escapes, even when a sequence is split across streamed tokens', async () => {
  // The stub streams one token per word, so the title change and the OSC 8 link arrive in pieces.
  backend.respond = (body) =>
    body.stream
      ? 'See [1].\u001b]0;owned by the docs\u0007 \u001b[2J\u001b[3J cleared \u001b]8;;https://evil.invalid/x y\u001b\\click here\u001b]8;;\u001b\\ done\r\n'
      : body.messages.at(-1)!.content;
  try {
    const { code, stdout } = await runDocent(['ask', 'configure replication', '--store', store, '--endpoint', backend.baseURL, '--model', 'stub']);
    assert.equal(code, 0);
    assert.doesNotMatch(stdout, /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/, JSON.stringify(stdout));
    assert.match(stdout, /^See \[1\]\. {2}cleared click here done\n/);
    assert.doesNotMatch(stdout, /owned by the docs|evil\.invalid/);
    assert.match(stdout, /Sources:\n\[1\] /);
  } finally {
    backend.respond = echoSourcesAnswer;
  }
});

test('ask with no endpoint answers retrieval-only; a dead endpoint degrades to an extractive answer', async () => {
  const retrievalOnly = JSON.parse((await runDocent(['ask', 'billing limit7', '--store', store, '--json'])).stdout);
  assert.equal(retrievalOnly.mode, 'retrieval-only');
  assert.equal(retrievalOnly.citations[0].path, 'section-0/page-7.md');
  const dead = await runDocent(['ask', 'billing limit7', '--store', store, '--endpoint', await refusedBaseURL(), '--model', 'stub', '--json']);
  assert.equal(dead.code, 0);
  const degraded = JSON.parse(dead.stdout);
  assert.equal(degraded.degraded, true);
  assert.equal(degraded.mode, 'extractive');
  assert.ok(degraded.degradedReason, 'a one-line reason');
  assert.equal(degraded.citations[0].path, 'section-0/page-7.md');
});

test('ask argument errors exit 2', async () => {
  for (const [args, message] of [
    [['ask', 'q', '--store', store, '--endpoint', backend.baseURL], /--endpoint and --model go together/],
    [['ask', 'q', '--store', store, '--endpoint', 'ftp://x', '--model', 'm'], /must be an http\(s\) URL/],
    [['ask', '--store', store], /exactly one quoted question/],
  ] as const) {
    const result = await runDocent([...args]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, message);
  }
});

test('a repeated ask in a new process is served from the answer cache in the store; a doc edit makes the next one fresh', async () => {
  const ask = async (question: string, ...extra: string[]) => {
    const result = await runDocent(['ask', question, '--store', store, '--json', ...extra]);
    assert.equal(result.code, 0, result.stderr);
    return JSON.parse(result.stdout) as { cached: boolean; answer: string; citations: Array<{ path: string }> };
  };
  const generated = ['--endpoint', backend.baseURL, '--model', 'stub'];
  const first = await ask('what does error E1003 mean?', ...generated);
  assert.equal(first.cached, false);
  const calls = backend.streamRequests.length;
  const second = await ask('What does error E1003 mean', ...generated);
  assert.equal(second.cached, true, 'another process, same question: from the cache file');
  assert.equal(second.answer, first.answer);
  assert.equal(backend.streamRequests.length, calls, 'no backend call');
  assert.ok(existsSync(path.join(store, 'answer-cache.jsonl')), 'its own file in the store folder');

  assert.equal((await ask('quotas limit6')).cached, false);
  assert.equal((await ask('quotas limit6')).cached, true, 'retrieval-only answers are cached too');

  // Edit the cited page and re-index: the next ask must not serve the old answer.
  const cited = path.join(docs, first.citations[0]!.path);
  await fs.writeFile(cited, `${await fs.readFile(cited, 'utf8')}\nError E1003 can also mean the disk is full.\n`);
  assert.equal((await runDocent(['index', docs, '--store', store, '--json'])).code, 0);
  assert.equal((await ask('what does error E1003 mean?', ...generated)).cached, false);
  assert.equal(backend.streamRequests.length, calls + 1);
  assert.equal((await ask('what does error E1003 mean?', ...generated)).cached, true, 'the fresh answer is cached in turn');
});
