/**
 * Identical concurrent questions share one upstream run. Late joiners get the events streamed so
 * far replayed, then live ones. The shared run is cancelled only when every caller has left, so
 * one caller's cancellation never fails the others.
 */
import { raceAbort } from './abort.js';
import { abortReason } from './errors.js';

interface Flight<T, E> {
  promise: Promise<T>;
  events: E[];
  listeners: Set<(event: E) => void>;
  callers: number;
  controller: AbortController;
}

export class SingleFlight<T, E> {
  private readonly flights = new Map<string, Flight<T, E>>();

  /** Number of runs in progress. */
  get size(): number {
    return this.flights.size;
  }

  /**
   * Runs `work` for `key`, or joins the run already in progress. `joined` tells the caller
   * whether it shared someone else's run.
   */
  run(
    key: string,
    work: (signal: AbortSignal, emit: (event: E) => void) => Promise<T>,
    signal: AbortSignal,
    onEvent?: (event: E) => void,
  ): { joined: boolean; result: Promise<T> } {
    let flight = this.flights.get(key);
    const joined = flight !== undefined;
    if (!flight) {
      const created: Flight<T, E> = {
        promise: undefined as unknown as Promise<T>,
        events: [],
        listeners: new Set(),
        callers: 0,
        controller: new AbortController(),
      };
      const emit = (event: E) => {
        created.events.push(event);
        for (const listener of created.listeners) listener(event);
      };
      created.promise = work(created.controller.signal, emit).finally(() => {
        if (this.flights.get(key) === created) this.flights.delete(key);
      });
      // Callers observe the promise through raceAbort; this keeps an abandoned run from being "unhandled".
      created.promise.catch(() => {});
      this.flights.set(key, created);
      flight = created;
    }
    return { joined, result: this.join(key, flight, signal, onEvent) };
  }

  private async join(key: string, flight: Flight<T, E>, signal: AbortSignal, onEvent?: (event: E) => void): Promise<T> {
    if (onEvent) {
      for (const event of flight.events) onEvent(event);
      flight.listeners.add(onEvent);
    }
    flight.callers++;
    try {
      return await raceAbort(flight.promise, signal);
    } finally {
      if (onEvent) flight.listeners.delete(onEvent);
      flight.callers--;
      if (flight.callers === 0 && signal.aborted) {
        // Nobody waits any more: stop the upstream work, and let a new caller start afresh.
        if (this.flights.get(key) === flight) this.flights.delete(key);
        flight.controller.abort(abortReason(signal));
      }
    }
  }
}
