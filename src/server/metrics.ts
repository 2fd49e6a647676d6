/** Prometheus text exposition of the generation engine's counters and latency histograms. */

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** tokens/s is averaged over this trailing window. */
const RATE_WINDOW_MS = 10_000;

class Histogram {
  private readonly counts = new Array<number>(LATENCY_BUCKETS.length).fill(0);
  private sum = 0;
  private count = 0;

  observe(seconds: number): void {
    this.sum += seconds;
    this.count++;
    LATENCY_BUCKETS.forEach((bound, i) => {
      if (seconds <= bound) this.counts[i]!++;
    });
  }

  render(name: string, help: string): string[] {
    const lines = [`# HELP ${name} ${help}`, `# TYPE ${name} histogram`];
    LATENCY_BUCKETS.forEach((bound, i) => lines.push(`${name}_bucket{le="${bound}"} ${this.counts[i]}`));
    lines.push(`${name}_bucket{le="+Inf"} ${this.count}`, `${name}_sum ${this.sum}`, `${name}_count ${this.count}`);
    return lines;
  }
}

export interface EngineGauges {
  queueDepth: number;
  activeSequences: number;
  batchSize: number;
}

export class GenerationMetrics {
  readonly timeToFirstToken = new Histogram();
  readonly interTokenLatency = new Histogram();
  generatedTokens = 0;
  promptTokens = 0;
  decodeSteps = 0;
  /** Prefill runs (each may carry several prompts' chunks). */
  prefillRuns = 0;
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
      '# HELP docent_queue_depth Requests waiting for a batch slot.',
      '# TYPE docent_queue_depth gauge',
      `docent_queue_depth ${gauges.queueDepth}`,
      '# HELP docent_active_sequences Sequences admitted (prefilling or decoding).',
      '# TYPE docent_active_sequences gauge',
      `docent_active_sequences ${gauges.activeSequences}`,
      '# HELP docent_batch_size Sequences in the last batched decode step.',
      '# TYPE docent_batch_size gauge',
      `docent_batch_size ${gauges.batchSize}`,
      '# HELP docent_tokens_per_second Generated tokens per second over the last 10 s.',
      '# TYPE docent_tokens_per_second gauge',
      `docent_tokens_per_second ${this.tokensPerSecond().toFixed(3)}`,
      '# HELP docent_generated_tokens_total Tokens generated.',
      '# TYPE docent_generated_tokens_total counter',
      `docent_generated_tokens_total ${this.generatedTokens}`,
      '# HELP docent_prompt_tokens_total Prompt tokens prefilled.',
      '# TYPE docent_prompt_tokens_total counter',
      `docent_prompt_tokens_total ${this.promptTokens}`,
      '# HELP docent_decode_steps_total Batched decode steps run.',
      '# TYPE docent_decode_steps_total counter',
      `docent_decode_steps_total ${this.decodeSteps}`,
      '# HELP docent_prefill_runs_total Prefill runs (each may carry several prompts).',
      '# TYPE docent_prefill_runs_total counter',
      `docent_prefill_runs_total ${this.prefillRuns}`,
      '# HELP docent_requests_finished_total Finished generations by finish reason.',
      '# TYPE docent_requests_finished_total counter',
      ...[...this.finishedRequests].map(([reason, n]) => `docent_requests_finished_total{reason="${reason}"} ${n}`),
      ...this.timeToFirstToken.render('docent_time_to_first_token_seconds', 'Time from submission to the first generated token.'),
      ...this.interTokenLatency.render('docent_inter_token_latency_seconds', 'Time between consecutive tokens of a sequence.'),
    ];
    return lines.join('\n') + '\n';
  }
}
