import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BusyError, StageTimeoutError } from '../../../src/core/pipeline/errors.js';
import type { FaultInjectingOpenAIServer } from '../../support/openaiStubServer.js';
import { makePipeline, settlesWithin, useStubServer, waitFor } from './fixtures.js';

const QUESTION = 'How do I rotate the API signing keys?';

describe('cancellation, timeouts, limiter and circuit breaker', () => {
  let server!: FaultInjectingOpenAIServer;
  useStubServer((started) => (server = started));

  test('aborting mid-generation rejects with the abort reason, aborts the HTTP request and frees the slot', async () => {
    const { pipeline } = makePipeline({ baseURL: server.baseURL, limits: { maxInFlight: 1 } });
    server.script({ kind: 'stall' });
    const controller = new AbortController();
    const pending = pipeline.ask({ question: QUESTION, signal: controller.signal });
    await settlesWithin(waitFor(() => server.streamRequests.length > 0 && pipeline.metrics().inFlight === 1), 3_000);
    controller.abort();
    await assert.rejects(settlesWithin(pending, 2_000), { name: 'AbortError' });
    await settlesWithin(waitFor(() => server.streamRequests.at(-1)!.aborted), 2_000);
    assert.equal(pipeline.metrics().inFlight, 0);
    assert.equal(pipeline.metrics().breaker, 'closed', 'a cancellation is not a backend failure');
    const next = await settlesWithin(pipeline.ask({ question: QUESTION }), 3_000);
    assert.equal(next.mode, 'generated');
  });

  test('aborting while queued leaves the queue without taking a slot', async () => {
    const { pipeline } = makePipeline({ baseURL: server.baseURL, limits: { maxInFlight: 1, maxQueue: 4 } });
    server.script({ kind: 'stall' });
    const holder = new AbortController();
    const holding = pipeline.ask({ question: QUESTION, signal: holder.signal });
    await settlesWithin(waitFor(() => pipeline.metrics().inFlight === 1), 3_000);
    const waiter = new AbortController();
    const queued = pipeline.ask({ question: 'How do I deploy to production?', signal: waiter.signal });
    await settlesWithin(waitFor(() => pipeline.metrics().queueDepth === 1), 3_000);
    waiter.abort(new Error('user closed the panel'));
    await assert.rejects(queued, /user closed the panel/);
    assert.equal(pipeline.metrics().queueDepth, 0);
    holder.abort();
    await assert.rejects(holding);
    // The caller is released at once; the shared run then unwinds and hands back its slot.
    await settlesWithin(waitFor(() => pipeline.metrics().inFlight === 0), 2_000);
  });

  test('an already-aborted signal never reaches the backend', async () => {
    const { pipeline } = makePipeline({ baseURL: server.baseURL });
    const before = server.requests.length;
    await assert.rejects(pipeline.ask({ question: QUESTION, signal: AbortSignal.abort() }), { name: 'AbortError' });
    assert.equal(server.requests.length, before);
  });

  test('a slow retriever hits the retrieval timeout with a clear error', async () => {
    const { pipeline, retriever } = makePipeline({ baseURL: server.baseURL, timeouts: { retrievalMs: 100 } });
    retriever.delayMs = 10_000;
    await assert.rejects(settlesWithin(pipeline.ask({ question: QUESTION }), 3_000), (error: unknown) => {
      assert.ok(error instanceof StageTimeoutError);
      assert.equal(error.message, 'Retrieval timed out after 100 ms');
      return true;
    });
  });

  test('a full queue answers "busy, retry in N s" at once instead of queueing without bound', async () => {
    const { pipeline } = makePipeline({ baseURL: server.baseURL, limits: { maxInFlight: 1, maxQueue: 1 }, cacheOptions: { enabled: false } });
    server.defaultFault = { kind: 'stall' };
    const controller = new AbortController();
    const running = pipeline.ask({ question: QUESTION, signal: controller.signal });
    const queued = pipeline.ask({ question: 'deploy production pipeline', signal: controller.signal });
    await settlesWithin(waitFor(() => pipeline.metrics().queueDepth === 1), 3_000);
    await assert.rejects(settlesWithin(pipeline.ask({ question: 'backups replicas' }), 1_000), (error: unknown) => {
      assert.ok(error instanceof BusyError);
      assert.match(error.message, /^Docent is busy, retry in \d+ s$/);
      return true;
    });
    assert.equal(pipeline.metrics().busyRejections, 1);
    controller.abort();
    await Promise.allSettled([running, queued]);
  });

  test('waiting longer than the maximum queue wait is a BusyError too', async () => {
    const { pipeline } = makePipeline({ baseURL: server.baseURL, limits: { maxInFlight: 1, maxQueue: 4, maxQueueWaitMs: 150 } });
    server.defaultFault = { kind: 'stall' };
    const controller = new AbortController();
    const running = pipeline.ask({ question: QUESTION, signal: controller.signal });
    await settlesWithin(waitFor(() => pipeline.metrics().inFlight === 1), 3_000);
    await assert.rejects(settlesWithin(pipeline.ask({ question: 'deploy production pipeline' }), 2_000), BusyError);
    controller.abort();
    await assert.rejects(running);
  });

  test('the breaker opens after repeated failures, serves extractive answers without calling the backend, then recovers', async () => {
    const { pipeline } = makePipeline({
      baseURL: server.baseURL,
      limits: { maxRetries: 0, breakerFailureThreshold: 2, breakerCooldownMs: 300 },
      cacheOptions: { enabled: false },
    });
    server.defaultFault = { kind: 'status', status: 500 };
    for (let i = 0; i < 2; i++) assert.equal((await pipeline.ask({ question: QUESTION })).degraded, true);
    assert.equal(pipeline.metrics().breaker, 'open');

    const before = server.requests.length;
    const whileOpen = await pipeline.ask({ question: QUESTION });
    assert.equal(whileOpen.degraded, true);
    assert.match(whileOpen.degradedReason!, /circuit open/);
    assert.equal(whileOpen.citations[0]?.path, 'security/keys.md');
    assert.equal(server.requests.length, before, 'no request while open');

    server.defaultFault = { kind: 'ok' };
    await new Promise((resolve) => setTimeout(resolve, 350));
    const probe = await pipeline.ask({ question: QUESTION });
    assert.equal(probe.degraded, false);
    assert.equal(pipeline.metrics().breaker, 'closed');
  });

  test('a failed half-open probe re-opens the breaker', async () => {
    const { pipeline } = makePipeline({
      baseURL: server.baseURL,
      limits: { maxRetries: 0, breakerFailureThreshold: 1, breakerCooldownMs: 200 },
      cacheOptions: { enabled: false },
    });
    server.defaultFault = { kind: 'status', status: 503 };
    await pipeline.ask({ question: QUESTION });
    assert.equal(pipeline.metrics().breaker, 'open');
    await new Promise((resolve) => setTimeout(resolve, 250));
    const before = server.requests.length;
    assert.equal((await pipeline.ask({ question: QUESTION })).degraded, true);
    assert.equal(server.requests.length, before + 1, 'exactly one probe went out');
    assert.equal(pipeline.metrics().breaker, 'open');
  });
});
