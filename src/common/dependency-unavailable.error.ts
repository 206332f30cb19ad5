/** The dependencies whose outage the app answers with 503 (cache nodes never fail a read). */
export type Dependency = 'storage' | 'database';

/**
 * A dependency did not answer within its deadline, refused, dropped the connection, or has its
 * circuit breaker open. The request may be retried later: the exception filter (and the image
 * fast path) answer it with 503 and Retry-After in the course failure shape. For a write, the
 * outcome is unknown (a commit may land after its deadline): the crash-recovery design covers it.
 */
export class DependencyUnavailableError extends Error {
  override readonly name = 'DependencyUnavailableError';

  constructor(
    readonly dependency: Dependency,
    readonly reason: string,
    readonly retryAfterSeconds: number,
    options?: { cause?: unknown },
  ) {
    super(`${dependency} unavailable: ${reason}`, options);
  }
}
