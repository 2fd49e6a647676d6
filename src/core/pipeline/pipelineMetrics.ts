/** Stage latencies and counters, as a snapshot object and as Prometheus text exposition. */
import type { LatencySummary, MetricsSnapshot, Stage } from './types.js';
import { Histogram, metricHeader, singleSampleMetrics, type MetricType } from '../prometheus.js';

/** Histogram bucket upper bounds in ms: powers of two from 0.25 ms (cache hits) to about 65 s (slow generation). */
const LATENCY_BUCKETS_MS: readonly number[] = Array.from({ length: 19 }, (_, i) => 2 ** (i - 2));
/** Recent samples kept per stage for exact p50/p95/p99 in the snapshot. */
const RESERVOIR_SIZE = 2048;

/** One stage: its bucketed histogram since start and a reservoir of recent samples for exact quantiles. */
class StageLatency {
  readonly buckets = new Histogram(LATENCY_BUCKETS_MS);
  private readonly recent = new Float64Array(RESERVOIR_SIZE);
  private next = 0;

  record(ms: number): void {
    this.buckets.observe(ms);
    this.recent[this.next % RESERVOIR_SIZE] = ms;
    this.next++;
  }

  summary(): LatencySummary {
    const samples = Array.from(this.recent.subarray(0, Math.min(this.next, RESERVOIR_SIZE))).sort((a, b) => a - b);
    const at = (q: number) => (samples.length === 0 ? 0 : samples[Math.min(samples.length - 1, Math.ceil(q * samples.length) - 1)]!);
    return {
      count: this.buckets.count,
      p50: at(0.5),
      p95: at(0.95),
      p99: at(0.99),
      max: samples.at(-1) ?? 0,
      histogram: { boundsMs: LATENCY_BUCKETS_MS, counts: [...this.buckets.counts], sumMs: this.buckets.sum },
    };
  }
}

export class PipelineMetrics {
  requests = 0;
  errors = 0;
  degraded = 0;
  busyRejections = 0;
  invalidations = 0;
  private readonly stages = new Map<Stage, StageLatency>();

  recordStage(stage: Stage, ms: number): void {
    let histogram = this.stages.get(stage);
    if (!histogram) this.stages.set(stage, (histogram = new StageLatency()));
    histogram.record(ms);
  }

  stageSummaries(): MetricsSnapshot['stages'] {
    const out: MetricsSnapshot['stages'] = {};
    for (const [stage, histogram] of this.stages) out[stage] = histogram.summary();
    return out;
  }

  /** Prometheus text format 0.0.4 for `snapshot` plus the cumulative stage histograms. */
  prometheus(snapshot: MetricsSnapshot): string {
    const lines: string[] = [];
    const metric = (name: string, type: MetricType, help: string) => lines.push(...metricHeader(name, type, help));

    metric('docent_pipeline_stage_duration_seconds', 'histogram', 'Time spent per answer pipeline stage.');
    for (const [stage, histogram] of this.stages) lines.push(...histogram.buckets.samples('docent_pipeline_stage_duration_seconds', `stage="${stage}"`, 1000));
    metric('docent_pipeline_stage_duration_quantile_seconds', 'gauge', 'Recent per-stage latency quantiles.');
    for (const [stage, summary] of Object.entries(snapshot.stages)) {
      for (const [quantile, ms] of [['0.5', summary.p50], ['0.95', summary.p95], ['0.99', summary.p99]] as const) {
        lines.push(`docent_pipeline_stage_duration_quantile_seconds{stage="${stage}",quantile="${quantile}"} ${ms / 1000}`);
      }
    }

    metric('docent_pipeline_cache_lookups_total', 'counter', 'Cache lookups per level and result.');
    for (const [level, stats] of Object.entries(snapshot.caches)) {
      lines.push(`docent_pipeline_cache_lookups_total{level="${level}",result="hit"} ${stats.hits}`);
      lines.push(`docent_pipeline_cache_lookups_total{level="${level}",result="miss"} ${stats.misses}`);
    }
    metric('docent_pipeline_cache_hit_ratio', 'gauge', 'Hits over lookups per cache level.');
    for (const [level, stats] of Object.entries(snapshot.caches)) lines.push(`docent_pipeline_cache_hit_ratio{level="${level}"} ${stats.hitRatio}`);
    metric('docent_pipeline_cache_entries', 'gauge', 'Entries held per cache level.');
    for (const [level, stats] of Object.entries(snapshot.caches)) lines.push(`docent_pipeline_cache_entries{level="${level}"} ${stats.entries}`);
    metric('docent_pipeline_cache_bytes', 'gauge', 'Estimated bytes held per cache level.');
    for (const [level, stats] of Object.entries(snapshot.caches)) lines.push(`docent_pipeline_cache_bytes{level="${level}"} ${stats.bytes}`);

    lines.push(
      ...singleSampleMetrics([
        ['docent_pipeline_requests_total', 'counter', 'Questions asked.', snapshot.requests],
        ['docent_pipeline_errors_total', 'counter', 'Questions that ended in an error.', snapshot.errors],
        ['docent_pipeline_degraded_total', 'counter', 'Answers degraded to extractive.', snapshot.degraded],
        ['docent_pipeline_busy_rejections_total', 'counter', 'Questions refused because the backend queue was full.', snapshot.busyRejections],
        ['docent_pipeline_cache_invalidations_total', 'counter', 'Cached answers dropped because their sources changed.', snapshot.invalidations],
        ['docent_pipeline_queue_depth', 'gauge', 'Callers waiting for a backend slot.', snapshot.queueDepth],
        ['docent_pipeline_in_flight', 'gauge', 'Backend requests in flight.', snapshot.inFlight],
        ['docent_pipeline_conversations', 'gauge', 'Conversations held in memory.', snapshot.conversations],
      ]),
    );
    metric('docent_pipeline_breaker_state', 'gauge', 'Circuit breaker state: 1 for the current state.');
    for (const state of ['closed', 'half-open', 'open'] as const) {
      lines.push(`docent_pipeline_breaker_state{state="${state}"} ${snapshot.breaker === state ? 1 : 0}`);
    }
    return `${lines.join('\n')}\n`;
  }
}
