import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { FaultInjectingOpenAIServer } from '../support/openaiStubServer.js';
import { makePipeline } from './fixtures.js';

describe('metrics', () => {
  let server: FaultInjectingOpenAIServer;
  before(async () => {
    server = await FaultInjectingOpenAIServer.start();
  });
  after(async () => {
    await server.close();
  });

  test('the snapshot has stage quantiles, hit ratios, degraded count and breaker state', async () => {
    const { pipeline } = makePipeline({ baseURL: server.baseURL, limits: { maxRetries: 0 } });
    for (let i = 0; i < 3; i++) await pipeline.ask({ question: 'How do I rotate the API signing keys?' });
    server.script({ kind: 'status', status: 500 });
    await pipeline.ask({ question: 'deploy production pipeline' });

    const snapshot = pipeline.metrics();
    assert.equal(snapshot.requests, 4);
    assert.equal(snapshot.errors, 0);
    assert.equal(snapshot.degraded, 1);
    assert.equal(snapshot.breaker, 'closed');
    assert.equal(snapshot.queueDepth, 0);
    assert.equal(snapshot.inFlight, 0);
    assert.equal(snapshot.caches.answer.hits, 2);
    assert.equal(snapshot.caches.answer.misses, 2);
    assert.equal(snapshot.caches.answer.hitRatio, 0.5);
    const total = snapshot.stages.total!;
    assert.equal(total.count, 4);
    assert.ok(total.p50 <= total.p95 && total.p95 <= total.p99 && total.p99 <= total.max);
    assert.equal(snapshot.stages.generate!.count, 2);
  });

  test('Prometheus text exposition is well-formed and carries the same numbers', async () => {
    const { pipeline } = makePipeline({ baseURL: server.baseURL });
    await pipeline.ask({ question: 'How do I rotate the API signing keys?' });
    await pipeline.ask({ question: 'How do I rotate the API signing keys?' });
    const text = pipeline.prometheus();
    assert.ok(text.endsWith('\n'));
    for (const line of text.trimEnd().split('\n')) {
      assert.match(line, /^(# (HELP|TYPE) \w+ .+|\w+(\{[a-z]+="[^"]*"(,[a-z]+="[^"]*")*\})? -?[\d.e+-]+)$/, line);
    }
    assert.match(text, /^docent_pipeline_requests_total 2$/m);
    assert.match(text, /^docent_pipeline_cache_lookups_total\{level="answer",result="hit"\} 1$/m);
    assert.match(text, /^docent_pipeline_stage_duration_seconds_count\{stage="generate"\} 1$/m);
    assert.match(text, /^docent_pipeline_stage_duration_seconds_bucket\{stage="total",le="\+Inf"\} 2$/m);
    assert.match(text, /^docent_pipeline_stage_duration_quantile_seconds\{stage="retrieve",quantile="0.99"\} [\d.e-]+$/m);
    assert.match(text, /^docent_pipeline_breaker_state\{state="closed"\} 1$/m);
    assert.match(text, /^docent_pipeline_queue_depth 0$/m);
  });
});
