import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { HashingEmbedder } from '../../../src/core/embedding/hashingEmbedder.js';
import type { FaultInjectingOpenAIServer } from '../../support/openaiStubServer.js';
import { capture, makePipeline, settlesWithin, useStubServer, waitFor } from './fixtures.js';

const QUESTION = 'How do I rotate the API signing keys?';

describe('answer cache, invalidation and single-flight', () => {
  let server!: FaultInjectingOpenAIServer;
  useStubServer((started) => (server = started));

  test('the same question in another case, spacing or punctuation is served from the cache', async () => {
    const { pipeline } = makePipeline({ baseURL: server.baseURL });
    const first = await pipeline.ask({ question: QUESTION });
    const before = server.requests.length;
    const seen = capture();
    const second = await pipeline.ask({ question: '  how do I rotate the api   signing keys ' }, seen.onEvent);
    assert.equal(second.cached, true);
    assert.equal(second.answer, first.answer);
    assert.deepEqual(second.citations, first.citations);
    assert.equal(server.requests.length, before);
    assert.equal(seen.streamedText(), second.answer);
    assert.equal(pipeline.metrics().caches.answer.hits, 1);
  });

  test('editing a cited file means the old answer is never served again', async () => {
    const { pipeline, retriever } = makePipeline({ baseURL: server.baseURL });
    await pipeline.ask({ question: QUESTION });
    retriever.editFile('security/keys.md', (text) => text.replace('ninety', 'thirty'));
    const before = server.streamRequests.length;
    const after = await pipeline.ask({ question: QUESTION });
    assert.equal(after.cached, false);
    assert.equal(server.streamRequests.length, before + 1);
    assert.match(server.streamRequests.at(-1)!.body.messages.at(-1)!.content, /every thirty days/);
    assert.match(after.citations[0]!.text, /thirty/);
    assert.equal(pipeline.metrics().invalidations, 1);
    assert.equal((await pipeline.ask({ question: QUESTION })).cached, true, 'the fresh answer is cached in turn');
  });

  test('an index change elsewhere keeps serving the answer while one background retrieval confirms it', async () => {
    const { pipeline, retriever } = makePipeline({ baseURL: server.baseURL });
    await pipeline.ask({ question: QUESTION });
    retriever.editFile('dev/setup.md', (text) => text.replace('Node 20', 'Node 22'));
    const before = server.requests.length;
    const searches = retriever.searches.length;
    const again = await pipeline.ask({ question: QUESTION });
    assert.equal(again.cached, true);
    await settlesWithin(waitFor(() => retriever.searches.length === searches + 1), 2_000);
    assert.equal((await pipeline.ask({ question: QUESTION })).cached, true);
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(retriever.searches.length, searches + 1, 'no further retrieval once re-proven');
    assert.equal(server.requests.length, before);
  });

  test('a newly indexed, better-matching passage drops the cached answer after its background check', async () => {
    const { pipeline, retriever } = makePipeline({ baseURL: server.baseURL, limits: { k: 2 } });
    const first = await pipeline.ask({ question: QUESTION });
    retriever.addFile([
      {
        path: 'security/rotation-runbook.md',
        startLine: 1,
        endLine: 5,
        title: 'rotation runbook',
        headingPath: ['Rotate API signing keys'],
        text: 'How to rotate the API signing keys: run the rotate job, then publish the signing keys.',
      },
    ]);
    // Served once more: its own sources are unchanged, so it quotes nothing outdated.
    const during = await pipeline.ask({ question: QUESTION });
    assert.equal(during.cached, true);
    assert.deepEqual(during.citations, first.citations);
    await settlesWithin(waitFor(() => pipeline.metrics().invalidations === 1), 2_000);
    const again = await pipeline.ask({ question: QUESTION });
    assert.equal(again.cached, false);
    assert.ok(again.citations.some((citation) => citation.path === 'security/rotation-runbook.md'));
  });

  test('identical concurrent questions share one backend call, and every caller gets the stream', async () => {
    server.latencyMs = 100;
    const { pipeline } = makePipeline({ baseURL: server.baseURL });
    const before = server.streamRequests.length;
    const captures = Array.from({ length: 5 }, () => capture());
    const answers = await Promise.all(captures.map((seen) => pipeline.ask({ question: QUESTION }, seen.onEvent)));
    assert.equal(server.streamRequests.length, before + 1);
    for (const [i, answer] of answers.entries()) {
      assert.equal(answer.answer, answers[0]!.answer);
      assert.equal(captures[i]!.streamedText(), answer.answer);
    }
    assert.equal(pipeline.metrics().caches.singleFlight.hits, 4);
  });

  test('one caller cancelling does not cancel the shared call for the others', async () => {
    server.latencyMs = 150;
    const { pipeline } = makePipeline({ baseURL: server.baseURL });
    const leaving = new AbortController();
    const first = pipeline.ask({ question: QUESTION, signal: leaving.signal });
    const second = pipeline.ask({ question: QUESTION });
    leaving.abort();
    await assert.rejects(first, { name: 'AbortError' });
    const answer = await second;
    assert.equal(answer.mode, 'generated');
    assert.equal(answer.degraded, false);
  });

  test('k and conversation history are part of the key', async () => {
    const { pipeline } = makePipeline({ baseURL: server.baseURL });
    await pipeline.ask({ question: QUESTION });
    assert.equal((await pipeline.ask({ question: QUESTION, k: 2 })).cached, false);
    const history = [
      { role: 'user' as const, content: 'Tell me about backups' },
      { role: 'assistant' as const, content: 'Backups run nightly [1].' },
    ];
    assert.equal((await pipeline.ask({ question: QUESTION, history })).cached, false);
    assert.equal((await pipeline.ask({ question: QUESTION, history })).cached, true);
  });

  test('the cache is bounded by bytes as well as entries', async () => {
    const { pipeline } = makePipeline({ baseURL: server.baseURL, cacheOptions: { answers: { maxEntries: 1_000, maxBytes: 4_000 } } });
    const questions = ['signing keys rotate', 'backups replicas', 'deploy production', 'local setup node', 'revoke leaked key', 'backup retention'];
    for (const question of questions) await pipeline.ask({ question });
    const { entries, bytes } = pipeline.metrics().caches.answer;
    assert.ok(bytes <= 4_000, `${bytes} bytes held`);
    assert.ok(entries < questions.length, `${entries} entries held`);
    assert.ok(entries >= 1);
  });

  test('entries expire after their TTL (with jitter below it)', async () => {
    const { pipeline } = makePipeline({ baseURL: server.baseURL, cacheOptions: { answers: { ttlMs: 80 }, ttlJitter: 0.5 } });
    await pipeline.ask({ question: QUESTION });
    await new Promise((resolve) => setTimeout(resolve, 120));
    assert.equal((await pipeline.ask({ question: QUESTION })).cached, false);
  });

  test('clearCache empties every level', async () => {
    const { pipeline } = makePipeline({ baseURL: server.baseURL, embedder: new HashingEmbedder(256) });
    await pipeline.ask({ question: QUESTION });
    pipeline.clearCache();
    const { answer, embedding } = pipeline.metrics().caches;
    assert.equal(answer.entries + embedding.entries, 0);
    assert.equal((await pipeline.ask({ question: QUESTION })).cached, false);
  });

  test('with caching disabled every question reaches the backend', async () => {
    const { pipeline } = makePipeline({ baseURL: server.baseURL, cacheOptions: { enabled: false } });
    const before = server.streamRequests.length;
    await pipeline.ask({ question: QUESTION });
    await pipeline.ask({ question: QUESTION });
    assert.equal(server.streamRequests.length, before + 2);
  });
});
