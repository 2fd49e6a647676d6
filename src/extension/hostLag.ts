/** The extension host's event-loop delay while the core process indexes (shown in Show Metrics). */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

export interface HostLag {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  samples: number;
}

export class HostLagMonitor {
  private monitor: IntervalHistogram | undefined;
  /** The last finished measurement. */
  last: HostLag | undefined;

  start(): void {
    if (this.monitor) return;
    this.monitor = monitorEventLoopDelay({ resolution: 10 });
    this.monitor.enable();
  }

  stop(): void {
    const monitor = this.monitor;
    if (!monitor) return;
    monitor.disable();
    this.monitor = undefined;
    if (monitor.count > 0) {
      this.last = { p50Ms: monitor.percentile(50) / 1e6, p99Ms: monitor.percentile(99) / 1e6, maxMs: monitor.max / 1e6, samples: monitor.count };
    }
  }
}
