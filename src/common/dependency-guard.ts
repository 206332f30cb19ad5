import { CircuitBreaker, BreakerState } from './circuit-breaker';
import { Dependency, DependencyUnavailableError } from './dependency-unavailable.error';

export interface DependencyGuardOptions {
  dependency: Dependency;
  /** Deadline of each guarded call. */
  timeoutMs: number;
  retryAfterSeconds: number;
  breakerThreshold: number;
  breakerOpenMs: number;
  /** Whether an error means "the dependency is unavailable" (else it passes through unchanged). */
  isOutage: (err: unknown) => boolean;
}

/**
 * The deadline and circuit breaker of one dependency. Every call through `run` ends within
 * `timeoutMs`: with its result, its own error, or DependencyUnavailableError (timeout, outage,
 * breaker open). The work receives an AbortSignal that fires at the deadline, so an adapter that
 * can cancel (the S3 SDK) frees its socket; the ones that cannot (a mysql2 query) are bounded by
 * their driver's own timeout, set to the same value.
 */
export class DependencyGuard {
  readonly breaker: CircuitBreaker;

  constructor(private readonly options: DependencyGuardOptions) {
    this.breaker = new CircuitBreaker({
      threshold: options.breakerThreshold,
      openMs: options.breakerOpenMs,
    });
  }

  get dependency(): Dependency {
    return this.options.dependency;
  }

  get state(): BreakerState {
    return this.breaker.state;
  }

  /** `deadlineFactor` stretches the deadline for bulk operations (clear everything). */
  async run<T>(
    what: string,
    work: (signal: AbortSignal) => Promise<T>,
    deadlineFactor = 1,
  ): Promise<T> {
    const { dependency, retryAfterSeconds } = this.options;
    const timeoutMs = this.options.timeoutMs * deadlineFactor;
    if (!this.breaker.tryAcquire()) {
      throw new DependencyUnavailableError(
        dependency,
        `circuit open after repeated failures (${what} not attempted)`,
        retryAfterSeconds,
      );
    }
    const abort = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        abort.abort();
        reject(
          new DependencyUnavailableError(
            dependency,
            `${what}: no answer within ${timeoutMs} ms`,
            retryAfterSeconds,
          ),
        );
      }, timeoutMs);
    });
    try {
      const result = await Promise.race([work(abort.signal), deadline]);
      this.breaker.succeeded();
      return result;
    } catch (err) {
      if (err instanceof DependencyUnavailableError) {
        this.breaker.failed();
        throw err;
      }
      if (this.options.isOutage(err)) {
        this.breaker.failed();
        throw new DependencyUnavailableError(
          dependency,
          `${what}: ${(err as Error)?.message ?? String(err)}`,
          retryAfterSeconds,
          { cause: err },
        );
      }
      this.breaker.neutral();
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }
}
