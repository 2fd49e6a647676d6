import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { cutNote, MAX_ANSWER_CHARS, MAX_PASSAGE_CHARS } from '../../../src/core/bounds.js';
import { MemoryRetriever } from '../../support/memoryRetriever.js';
import { echoSourcesAnswer, type FaultInjectingOpenAIServer, refusedBaseURL } from '../../support/openaiStubServer.js';
import { capture, makePipeline, settlesWithin, useStubServer, waitFor } from './fixtures.js';

const QUESTION = 'How do I rotate the API signing keys?';

describe('backend faults', () => {
  let server!: FaultInjectingOpenAIServer;
  useStubServer((started) => (server = started));

  test('5xx before the first token is retried with backoff, then answers', async () => {
    const { pipeline } = makePipeline({ baseURL: server.baseURL });
    const before = server.streamRequests.length;
    server.script({ kind: 'status', status: 500 }, { kind: 'status', status: 503 });
    const answer = await pipeline.ask({ question: QUESTION });
    assert.equal(answer.mode, 'generated');
    assert.equal(answer.degraded, false);
    assert.equal(server.streamRequests.length - before, 3);
  });

  test('5xx that persists degrades to an extractive answer with citations and a one-line reason', async () => {
    const { pipeline } = makePipeline({ baseURL: server.baseURL, limits: { maxRetries: 1 } });
    server.defaultFault = { kind: 'status', status: 502 };
    const seen = capture();
    const answer = await pipeline.ask({ question: QUESTION }, seen.onEvent);
    assert.equal(answer.degraded, true);
    assert.equal(answer.mode, 'extractive');
    assert.match(answer.degradedReason!, /HTTP 502/);
    assert.deepEqual(answer.degradedCause, { kind: 'server-error', status: 502 });
    assert.match(answer.answer.split('\n')[0]!, /^⚠ .*HTTP 502.*Showing the most relevant passages instead\.$/);
    assert.equal(answer.citations[0]?.path, 'security/keys.md');
    assert.match(answer.answer, /\[1\] security\/keys\.md:1-10/);
    assert.equal(seen.streamedText(), answer.answer);
    assert.equal(pipeline.metrics().degraded, 1);
  });

  test('degraded answers are never cached as full answers', async () => {
    const { pipeline } = makePipeline({ baseURL: server.baseURL, limits: { maxRetries: 0 } });
    server.script({ kind: 'status', status: 500 });
    const first = await pipeline.ask({ question: QUESTION });
    assert.equal(first.degraded, true);
    const second = await pipeline.ask({ question: QUESTION });
    assert.equal(second.cached, false);
    assert.equal(second.degraded, false);
    assert.equal(second.mode, 'generated');
    assert.equal((await pipeline.ask({ question: QUESTION })).cached, true);
  });

  test('429 honours Retry-After before retrying', async () => {
    const { pipeline } = makePipeline({ baseURL: server.baseURL });
    server.script({ kind: 'status', status: 429, retryAfter: '1' });
    const before = server.streamRequests.length;
    const started = performance.now();
    const answer = await pipeline.ask({ question: QUESTION });
    assert.equal(answer.degraded, false);
    assert.equal(server.streamRequests.length - before, 2);
    // A lower bound only: a slow machine can make this longer, never shorter.
    assert.ok(performance.now() - started >= 950, 'waited for the Retry-After second');
  });

  test('429 asking for longer than the first-token budget degrades at once, saying when to retry', async () => {
    const { pipeline } = makePipeline({ baseURL: server.baseURL, timeouts: { firstTokenMs: 2_000 } });
    server.script({ kind: 'status', status: 429, retryAfter: '30' });
    const before = server.streamRequests.length;
    const answer = await settlesWithin(pipeline.ask({ question: QUESTION }), 1_500);
    assert.equal(answer.degraded, true);
    assert.match(answer.degradedReason!, /rate-limiting.*retry in 30 s/);
    assert.deepEqual(answer.degradedCause, { kind: 'rate-limited', status: 429 });
    assert.equal(server.streamRequests.length - before, 1);
    assert.equal(pipeline.metrics().breaker, 'closed', 'rate limiting is not a breaker failure');
  });

  for (const status of [401, 404]) {
    test(`HTTP ${status} degrades at once with its status said once and its cause for the fix`, async () => {
      const { pipeline } = makePipeline({ baseURL: server.baseURL });
      server.script({ kind: 'status', status });
      const before = server.streamRequests.length;
      const answer = await pipeline.ask({ question: QUESTION });
      assert.equal(answer.degraded, true);
      assert.equal(answer.degradedReason, `The backend rejected the request (HTTP ${status}): injected HTTP ${status}`);
      assert.equal(answer.degradedReason!.match(new RegExp(String(status), 'g'))!.length, 2, 'the status once, the server message once');
      assert.deepEqual(answer.degradedCause, { kind: 'rejected', status });
      assert.equal(server.streamRequests.length - before, 1, 'a rejected request is not retried');
    });
  }

  test('the retrieved passages are reported before the first token, numbered as the sources are', async () => {
    const { pipeline } = makePipeline({ baseURL: server.baseURL });
    const seen = capture();
    const answer = await pipeline.ask({ question: 'How do I restore a database backup?' }, seen.onEvent);
    const kinds = seen.events.map((event) => event.type);
    const passagesAt = kinds.indexOf('passages');
    assert.ok(passagesAt >= 0 && passagesAt < kinds.indexOf('token'), `passages come before the first token: ${kinds.join(',')}`);
    assert.equal(kinds.filter((kind) => kind === 'passages').length, 1);
    const passages = (seen.events[passagesAt] as { citations: { n: number; path: string }[] }).citations;
    for (const cited of answer.citations) assert.equal(passages.find((passage) => passage.n === cited.n)?.path, cited.path);
  });

  test('a refused connection degrades with a clear reason', async () => {
    const { pipeline } = makePipeline({ baseURL: await refusedBaseURL(), limits: { maxRetries: 1 } });
    const answer = await settlesWithin(pipeline.ask({ question: QUESTION }), 5_000);
    assert.equal(answer.degraded, true);
    assert.match(answer.degradedReason!, /could not connect to the backend \(ECONNREFUSED\)/i);
    assert.deepEqual(answer.degradedCause, { kind: 'unreachable' });
    assert.equal(answer.citations[0]?.path, 'security/keys.md');
  });

  for (const [kind, reason] of [
    ['malformed', /malformed stream chunk/],
    ['drop', /connection to the backend dropped mid-answer/],
    ['truncate', /stream ended before the answer was complete/],
  ] as const) {
    test(`a ${kind} stream after the first tokens keeps what streamed, ends with a clear error, and is not retried`, async () => {
      const { pipeline } = makePipeline({ baseURL: server.baseURL });
      server.script({ kind, afterTokens: 3 });
      // Spaced tokens reach the client before the fault (a drop with nothing received is retried).
      server.tokenDelayMs = 5;
      const before = server.streamRequests.length;
      const seen = capture();
      const answer = await settlesWithin(pipeline.ask({ question: QUESTION }, seen.onEvent), 5_000).finally(() => {
        server.tokenDelayMs = 0;
      });
      assert.equal(server.streamRequests.length - before, 1, 'no retry after the first token');
      assert.equal(answer.degraded, true);
      assert.match(answer.degradedReason!, reason);
      assert.match(answer.answer, /^According [^⚠]*\n\n⚠ /, 'the streamed tokens are kept, then the error line');
      assert.match(answer.answer, /\n\n⚠ .*Showing the most relevant passages instead\./);
      assert.equal(seen.streamedText(), answer.answer);
      assert.ok(answer.citations.some((citation) => citation.path === 'security/keys.md'));
      assert.equal((await pipeline.ask({ question: QUESTION })).cached, false, 'the partial answer was not cached');
    });
  }

  test('a malformed first chunk degrades to a purely extractive answer', async () => {
    const { pipeline } = makePipeline({ baseURL: server.baseURL });
    server.script({ kind: 'malformed', afterTokens: 0 });
    const answer = await pipeline.ask({ question: QUESTION });
    assert.equal(answer.degraded, true);
    assert.match(answer.answer, /^⚠ The backend sent a malformed stream chunk/);
  });

  test('a slow first token hits the first-token timeout, aborts the HTTP request and degrades', async () => {
    const { pipeline } = makePipeline({ baseURL: server.baseURL, timeouts: { firstTokenMs: 300 } });
    server.script({ kind: 'slowFirstToken', delayMs: 5_000 });
    const answer = await settlesWithin(pipeline.ask({ question: QUESTION }), 3_000);
    assert.equal(answer.degraded, true);
    assert.match(answer.degradedReason!, /first token timed out after 300 ms/);
    assert.deepEqual(answer.degradedCause, { kind: 'timeout' });
    await settlesWithin(waitFor(() => server.streamRequests.at(-1)!.aborted), 2_000);
  });

  test('a backend that never finishes degrades at the total timeout, keeping what streamed', async () => {
    const { pipeline } = makePipeline({ baseURL: server.baseURL, timeouts: { totalMs: 600 } });
    server.tokenDelayMs = 200;
    try {
      const answer = await settlesWithin(pipeline.ask({ question: QUESTION }), 3_000);
      assert.equal(answer.degraded, true);
      assert.match(answer.degradedReason!, /Answering timed out after 600 ms/);
      assert.ok(answer.answer.startsWith('According to'));
    } finally {
      server.tokenDelayMs = 0;
    }
  });
});

describe('bounded answers and stalled streams', () => {
  let server!: FaultInjectingOpenAIServer;
  useStubServer((started) => (server = started));

  test('a stream that stops after its first token ends at the idle timeout with a clear message and frees its slot', async () => {
    const { pipeline } = makePipeline({ baseURL: server.baseURL, limits: { maxInFlight: 1 }, timeouts: { idleTokenMs: 300, totalMs: 20_000 } });
    server.script({ kind: 'stall', afterTokens: 1 });
    const seen = capture();
    const answer = await settlesWithin(pipeline.ask({ question: QUESTION }, seen.onEvent), 3_000);
    assert.equal(answer.degraded, true);
    assert.match(answer.degradedReason!, /The answer stream stopped: no token for 300 ms/);
    assert.match(answer.answer, /^According \n\n⚠ The answer stream stopped/, 'the first token is kept, then the message');
    assert.equal(seen.streamedText(), answer.answer);
    await settlesWithin(waitFor(() => server.streamRequests.at(-1)!.aborted), 2_000);
    assert.equal(pipeline.metrics().inFlight, 0, 'the slot is free');
    const next = await settlesWithin(pipeline.ask({ question: 'How are backups configured?' }), 3_000);
    assert.equal(next.mode, 'generated');
  });

  test('a backend that ignores max_tokens is cut at the token bound with a note, and its stream is closed', async () => {
    const { pipeline } = makePipeline({ baseURL: server.baseURL, limits: { maxAnswerTokens: 50 } });
    server.respond = (body) => (body.stream ? 'word '.repeat(5_000) : body.messages.at(-1)!.content);
    // Spaced tokens: the stream is still running when the bound is reached.
    server.tokenDelayMs = 2;
    try {
      const seen = capture();
      const answer = await settlesWithin(pipeline.ask({ question: QUESTION }, seen.onEvent), 5_000);
      assert.equal(server.streamRequests.at(-1)!.body.max_tokens, 50);
      assert.equal(answer.answer.match(/word/g)?.length, 50);
      assert.match(answer.answer, /\n\n\[Answer cut: the backend sent more than 50 tokens; the rest was dropped\.\]$/);
      assert.equal(seen.streamedText(), answer.answer);
      await settlesWithin(waitFor(() => server.streamRequests.at(-1)!.aborted), 2_000);
    } finally {
      server.respond = echoSourcesAnswer;
      server.tokenDelayMs = 0;
    }
  });

  test('one enormous chunk is cut at MAX_ANSWER_CHARS with a note', async () => {
    const { pipeline } = makePipeline({ baseURL: server.baseURL });
    server.respond = (body) => (body.stream ? 'x'.repeat(MAX_ANSWER_CHARS * 3) : body.messages.at(-1)!.content);
    try {
      const answer = await settlesWithin(pipeline.ask({ question: QUESTION }), 5_000);
      assert.ok(answer.answer.startsWith('x'.repeat(MAX_ANSWER_CHARS)));
      assert.equal(answer.answer.length, MAX_ANSWER_CHARS + cutNote(`longer than ${MAX_ANSWER_CHARS} characters`).length);
      assert.match(answer.answer, /\[Answer cut: longer than \d+ characters; the rest was dropped\.\]$/);
    } finally {
      server.respond = echoSourcesAnswer;
    }
  });

  test('a passage over MAX_PASSAGE_CHARS leaves the pipeline cut to that size', async () => {
    const huge = { path: 'huge/one-line.txt', startLine: 1, endLine: 1, title: 'one-line', text: `rotate signing keys ${'z'.repeat(1_900_000)}`, headingPath: [] };
    const { pipeline } = makePipeline({ retriever: new MemoryRetriever([huge]) });
    const answer = await pipeline.ask({ question: 'rotate signing keys' });
    assert.equal(answer.citations.length, 1);
    assert.ok(answer.citations[0]!.text.length <= MAX_PASSAGE_CHARS, `${answer.citations[0]!.text.length} characters`);
    assert.ok(answer.citations[0]!.text.startsWith('rotate signing keys'));
  });
});
