/** Prometheus text exposition of the generation engine's counters and latency histograms. */
import { Histogram, metricHeader, singleSampleMetrics } from '../core/prometheus.js';

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** tokens/s is averaged over this trailing window. */
const RATE_WINDOW_MS = 10_000;

export interface EngineGauges {
  queueDepth: number;
  activeSequences: number;
  batchSize: number;
}

export class GenerationMetrics {
  readonly timeToFirstToken = new Histogram(LATENCY_BUCKETS);
  readonly interTokenLatency = new Histogram(LATENCY_BUCKETS);
  generatedTokens = 0;
  promptTokens = 0;
  decodeSteps = 0;
  /** Prefill runs (each may carry several prompts' chunks). */
  prefillRuns = 0;
  /** Bytes of host tensors fed to the decoder; on a GPU provider they cross to the device. */
  hostInputBytes = 0;
  /** Bytes of decoder outputs handed over as host tensors; on a GPU provider they cross back. */
  hostOutputBytes = 0;
  readonly finishedRequests = new Map<string, number>();
  /** (time, tokens) per decode or prefill step, for the trailing rate. */
  private readonly recent: Array<[number, number]> = [];

  addTokens(count: number, now = Date.now()): void {
    this.generatedTokens += count;
    this.recent.push([now, count]);
    while (this.recent.length > 0 && this.recent[0]![0] < now - RATE_WINDOW_MS) this.recent.shift();
  }

  finish(reason: string): void {
    this.finishedRequests.set(reason, (this.finishedRequests.get(reason) ?? 0) + 1);
  }

  tokensPerSecond(now = Date.now()): number {
    const inWindow = this.recent.filter(([at]) => at >= now - RATE_WINDOW_MS);
    if (inWindow.length === 0) return 0;
    const tokens = inWindow.reduce((sum, [, n]) => sum + n, 0);
    const span = Math.max(1000, now - inWindow[0]![0]);
    return (tokens * 1000) / span;
  }

  render(gauges: EngineGauges): string {
    const lines = [
      ...singleSampleMetrics([
        ['docent_queue_depth', 'gauge', 'Requests waiting for a batch slot.', gauges.queueDepth],
        ['docent_active_sequences', 'gauge', 'Sequences admitted (prefilling or decoding).', gauges.activeSequences],
        ['docent_batch_size', 'gauge', 'Sequences in the last batched decode step.', gauges.batchSize],
        ['docent_tokens_per_second', 'gauge', 'Generated tokens per second over the last 10 s.', this.tokensPerSecond().toFixed(3)],
        ['docent_generated_tokens_total', 'counter', 'Tokens generated.', this.generatedTokens],
        ['docent_prompt_tokens_total', 'counter', 'Prompt tokens prefilled.', this.promptTokens],
        ['docent_decode_steps_total', 'counter', 'Batched decode steps run.', this.decodeSteps],
        ['docent_prefill_runs_total', 'counter', 'Prefill runs (each may carry several prompts).', this.prefillRuns],
        ['docent_decoder_host_input_bytes_total', 'counter', 'Bytes of host tensors fed to the decoder (copied to the device on a GPU provider).', this.hostInputBytes],
        ['docent_decoder_host_output_bytes_total', 'counter', 'Bytes of decoder outputs returned as host tensors (copied from the device on a GPU provider).', this.hostOutputBytes],
      ]),
      ...metricHeader('docent_requests_finished_total', 'counter', 'Finished generations by finish reason.'),
      ...[...this.finishedRequests].map(([reason, n]) => `docent_requests_finished_total{reason="${reason}"} ${n}`),
      ...metricHeader('docent_time_to_first_token_seconds', 'histogram', 'Time from submission to the first generated token.'),
      ...this.timeToFirstToken.samples('docent_time_to_first_token_seconds'),
      ...metricHeader('docent_inter_token_latency_seconds', 'histogram', 'Time between consecutive tokens of a sequence.'),
      ...this.interTokenLatency.samples('docent_inter_token_latency_seconds'),
    ];
    return lines.join('\n') + '\n';
  }
}
