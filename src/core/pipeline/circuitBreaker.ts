/** Per-backend circuit breaker: closed → open after repeated failures → half-open probe → closed. */
import type { BreakerState } from './types.js';
import { monotonicMs } from '../clock.js';

export class CircuitBreaker {
  private currentState: BreakerState = 'closed';
  private consecutiveFailures = 0;
  private openedAt = 0;
  private probeInFlight = false;

  constructor(
    private readonly failureThreshold: number,
    private readonly cooldownMs: number,
    private readonly onChange: (state: BreakerState) => void = () => {},
  ) {}

  get state(): BreakerState {
    return this.currentState;
  }

  /**
   * Whether a request may go to the backend now. After the cooldown one caller is let through
   * as the half-open probe; everyone else keeps getting `false` until it reports back.
   */
  tryPass(): boolean {
    if (this.currentState === 'closed') return true;
    if (this.currentState === 'open' && monotonicMs() - this.openedAt >= this.cooldownMs) this.transition('half-open');
    if (this.currentState === 'half-open' && !this.probeInFlight) {
      this.probeInFlight = true;
      return true;
    }
    return false;
  }

  recordSuccess(): void {
    this.consecutiveFailures = 0;
    this.probeInFlight = false;
    if (this.currentState !== 'closed') this.transition('closed');
  }

  recordFailure(): void {
    this.consecutiveFailures++;
    this.probeInFlight = false;
    if (this.currentState === 'half-open' || this.consecutiveFailures >= this.failureThreshold) {
      this.openedAt = monotonicMs();
      if (this.currentState !== 'open') this.transition('open');
    }
  }

  /** The request ended without telling anything about the backend's health (cancelled, queue full). */
  recordNeutral(): void {
    this.probeInFlight = false;
  }

  private transition(state: BreakerState): void {
    this.currentState = state;
    this.onChange(state);
  }
}
