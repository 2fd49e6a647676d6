import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { FaultInjectingOpenAIServer } from '../../support/openaiStubServer.js';
import { makePipeline, useStubServer } from './fixtures.js';

describe('metrics', () => {
  let server!: FaultInjectingOpenAIServer;
  useStubServer((started) => (server = started));

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

  test('the snapshot carries fixed log-spaced latency buckets that count every sample', async () => {
    const { pipeline } = makePipeline({ baseURL: server.baseURL });
    for (const question of ['How do I rotate the API signing keys?', 'How do I rotate the API signing keys?', 'deploy production pipeline']) {
      await pipeline.ask({ question });
    }
    const { stages } = pipeline.metrics();
    const { boundsMs, counts, sumMs } = stages.total!.histogram;
    assert.equal(boundsMs[0], 0.25);
    for (let i = 1; i < boundsMs.length; i++) assert.equal(boundsMs[i], boundsMs[i - 1]! * 2);
    assert.equal(counts.length, boundsMs.length + 1, 'one count per bound plus the overflow');
    assert.equal(counts.reduce((a, b) => a + b, 0), 3);
    assert.ok(sumMs > 0 && sumMs <= 3 * stages.total!.max);
    // Every stage uses the same bounds, so histograms can be compared and summed.
    assert.deepEqual(stages.retrieve!.histogram.boundsMs, boundsMs);
    // The max sample sits in the last non-empty bucket.
    const last = counts.length - 1 - [...counts].reverse().findIndex((count) => count > 0);
    assert.ok(stages.total!.max <= (boundsMs[last] ?? Infinity) && (last === 0 || stages.total!.max > boundsMs[last - 1]!));
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

    // Histogram buckets are cumulative, ascending in `le`, end at +Inf = _count, and _sum matches the snapshot.
    const total = pipeline.metrics().stages.total!;
    const buckets = [...text.matchAll(/^docent_pipeline_stage_duration_seconds_bucket\{stage="total",le="([^"]+)"\} (\d+)$/gm)].map((m) => [m[1] === '+Inf' ? Infinity : Number(m[1]), Number(m[2])] as const);
    assert.equal(buckets.length, total.histogram.boundsMs.length + 1);
    for (let i = 1; i < buckets.length; i++) assert.ok(buckets[i]![0] > buckets[i - 1]![0] && buckets[i]![1] >= buckets[i - 1]![1], `bucket ${i}`);
    assert.deepEqual(buckets.at(-1), [Infinity, 2]);
    assert.deepEqual(buckets.map(([le]) => le).slice(0, -1), total.histogram.boundsMs.map((ms) => ms / 1000));
    const sum = Number(/^docent_pipeline_stage_duration_seconds_sum\{stage="total"\} (\S+)$/m.exec(text)?.[1]);
    assert.ok(Math.abs(sum - total.histogram.sumMs / 1000) < 1e-9);
    assert.match(text, /^docent_pipeline_stage_duration_seconds_count\{stage="total"\} 2$/m);
    assert.match(text, /^docent_pipeline_queue_depth 0$/m);
  });
});
