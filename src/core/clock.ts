/**
 * Milliseconds on a monotonic clock, for durations. Not performance.now(): that global loads
 * perf_hooks and a dozen of Node's modules when first read, milliseconds of a cold `docent query`
 * or a one-file `docent index --changed`.
 */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}
