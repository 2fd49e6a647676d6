/**
 * Prometheus text format 0.0.4 and the one latency histogram, shared by the answer pipeline's
 * metrics and the generation server's /metrics.
 */

export type MetricType = 'counter' | 'gauge' | 'histogram';

/** The `# HELP` and `# TYPE` lines that open a metric's samples. */
export function metricHeader(name: string, type: MetricType, help: string): string[] {
  return [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`];
}

/** Metrics with a single unlabelled sample each, with their headers. */
export function singleSampleMetrics(rows: Array<[name: string, type: MetricType, help: string, value: number | string]>): string[] {
  return rows.flatMap(([name, type, help, value]) => [...metricHeader(name, type, help), `${name} ${value}`]);
}

/** Observations counted into buckets (inclusive upper bounds, then one for everything above), with their sum. */
export class Histogram {
  /** One count per bound plus the overflow above the last one; not cumulative. */
  readonly counts: number[];
  count = 0;
  sum = 0;

  constructor(readonly bounds: readonly number[]) {
    this.counts = new Array<number>(bounds.length + 1).fill(0);
  }

  observe(value: number): void {
    this.count++;
    this.sum += value;
    const bucket = this.bounds.findIndex((bound) => value <= bound);
    this.counts[bucket === -1 ? this.bounds.length : bucket]!++;
  }

  /** The `_bucket` (cumulative), `_sum` and `_count` samples; `scale` divides bounds and sum (ms → s: 1000). */
  samples(name: string, labels = '', scale = 1): string[] {
    const inner = labels ? `${labels},` : '';
    const outer = labels ? `{${labels}}` : '';
    let cumulative = 0;
    const lines = this.bounds.map((bound, i) => {
      cumulative += this.counts[i]!;
      return `${name}_bucket{${inner}le="${bound / scale}"} ${cumulative}`;
    });
    lines.push(`${name}_bucket{${inner}le="+Inf"} ${this.count}`, `${name}_sum${outer} ${this.sum / scale}`, `${name}_count${outer} ${this.count}`);
    return lines;
  }
}
