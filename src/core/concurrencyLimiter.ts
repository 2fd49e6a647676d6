/**
 * Caps calls in flight, with a queue that may be bounded (callers beyond it get a BusyError at
 * once) and time-limited: the pipeline's backend requests and discovery's filesystem calls.
 */
import { abortReason, BusyError } from './pipeline/errors.js';
import { monotonicMs } from './clock.js';

interface Waiter {
  grant: (release: () => void) => void;
}

export class ConcurrencyLimiter {
  private inFlightCount = 0;
  private readonly waiters: Waiter[] = [];
  /** Moving average of how long a slot is held, to tell busy callers when to come back. */
  private averageHoldMs = 1000;

  constructor(
    private readonly maxInFlight: number,
    private readonly maxQueue = Infinity,
    private readonly maxWaitMs = Infinity,
  ) {}

  get inFlight(): number {
    return this.inFlightCount;
  }

  get queueDepth(): number {
    return this.waiters.length;
  }

  /**
   * Resolves with a release function once a slot is free. Rejects with BusyError when the queue
   * is full or the wait exceeds the maximum, and with the abort reason when `signal` aborts; a
   * caller that leaves the queue never takes a slot.
   */
  acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    if (this.inFlightCount < this.maxInFlight) return Promise.resolve(this.take());
    if (this.waiters.length >= this.maxQueue) return Promise.reject(new BusyError(this.retryAfterSeconds()));
    return new Promise((resolve, reject) => {
      const leave = (error: Error) => {
        const index = this.waiters.indexOf(waiter);
        if (index >= 0) this.waiters.splice(index, 1);
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        reject(error);
      };
      const onAbort = () => leave(abortReason(signal!));
      const timer = Number.isFinite(this.maxWaitMs) ? setTimeout(() => leave(new BusyError(this.retryAfterSeconds())), this.maxWaitMs) : undefined;
      const waiter: Waiter = {
        grant: (release) => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          resolve(release);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  /** Runs `call` once a slot is free, and frees it when `call` settles. */
  async run<T>(call: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const release = await this.acquire(signal);
    try {
      return await call();
    } finally {
      release();
    }
  }

  private take(): () => void {
    this.inFlightCount++;
    const started = monotonicMs();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.averageHoldMs = 0.8 * this.averageHoldMs + 0.2 * (monotonicMs() - started);
      this.inFlightCount--;
      // The slot passes straight to the next waiter, so a newcomer cannot overtake the queue.
      const next = this.waiters.shift();
      if (next) next.grant(this.take());
    };
  }

  private retryAfterSeconds(): number {
    const waves = Math.ceil((this.waiters.length + 1) / this.maxInFlight);
    return Math.max(1, Math.ceil((waves * this.averageHoldMs) / 1000));
  }
}
