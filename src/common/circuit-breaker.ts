/** closed: calls pass; open: calls fail at once; half-open: one trial call is in flight. */
export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerOptions {
  /** Consecutive failures that open the breaker. */
  threshold: number;
  /** Time an open breaker refuses calls before letting one trial through. */
  openMs: number;
  now?: () => number;
}

/**
 * Keeps answers fast during an outage: after `threshold` consecutive failures every call is
 * refused at once for `openMs` (instead of each waiting its full deadline and holding sockets and
 * pool slots); then one trial call goes through, and its outcome closes or reopens the breaker.
 * Recovery needs no restart and no operator: the trial is any ordinary call (a readiness probe
 * included), so the breaker closes at most `openMs` + one call after the dependency returns.
 */
export class CircuitBreaker {
  private failures = 0;
  private openedAt = 0;
  private current: BreakerState = 'closed';
  private readonly now: () => number;

  constructor(private readonly options: BreakerOptions) {
    this.now = options.now ?? Date.now;
  }

  get state(): BreakerState {
    return this.current;
  }

  /** True if the call may go ahead (and, when half-opening, it is the trial). */
  tryAcquire(): boolean {
    if (this.current === 'closed') return true;
    if (this.current === 'open' && this.now() - this.openedAt >= this.options.openMs) {
      this.current = 'half-open';
      return true;
    }
    return false;
  }

  succeeded(): void {
    this.failures = 0;
    this.current = 'closed';
  }

  failed(): void {
    this.failures += 1;
    if (this.current === 'half-open' || this.failures >= this.options.threshold) {
      this.current = 'open';
      this.openedAt = this.now();
    }
  }

  /** A call that ended with an error that says nothing about the dependency's health. */
  neutral(): void {
    if (this.current === 'half-open') this.current = 'closed';
  }
}
