/**
 * Prometheus text format 0.0.4, shared by the answer pipeline's metrics and the generation
 * server's /metrics.
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
