import { Clock } from '../clock.port';

/**
 * How throttled calls are retried: exponential backoff from `baseMs` doubling to `maxMs`, each wait
 * drawn from its upper half (jitter, so app instances throttled together do not retry together),
 * until `deadlineMs` after the first attempt; then the throttling error is thrown.
 */
export interface ThrottleRetry {
  clock: Clock;
  baseMs: number;
  maxMs: number;
  deadlineMs: number;
  /** 0..1; injectable so tests know the waits. */
  random?: () => number;
}

/** AWS error codes that mean "slow down", not "this failed". */
const THROTTLING = new Set(['RequestLimitExceeded', 'Throttling', 'ThrottlingException']);

/**
 * Runs one AWS call and rethrows its failure with what was being done, keeping the SDK error as
 * `cause`. With `retry`, throttling answers are retried with backoff until its deadline.
 */
export async function ec2Call<T>(
  what: string,
  call: () => Promise<T>,
  retry?: ThrottleRetry,
): Promise<T> {
  const started = retry?.clock.now().getTime() ?? 0;
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      const name = error instanceof Error ? error.name : '';
      if (retry && THROTTLING.has(name)) {
        const cap = Math.min(retry.maxMs, retry.baseMs * 2 ** attempt);
        const wait = Math.round(cap / 2 + (cap / 2) * (retry.random ?? Math.random)());
        const elapsed = retry.clock.now().getTime() - started;
        if (elapsed + wait <= retry.deadlineMs) {
          await retry.clock.sleep(wait);
          continue;
        }
        throw new Error(
          `${what} failed: ${errorText(error)} (still throttled after ${attempt + 1} attempts ` +
            `in ${elapsed} ms)`,
          { cause: error },
        );
      }
      throw new Error(`${what} failed: ${errorText(error)}`, { cause: error });
    }
  }
}

export function errorText(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  // SDK errors carry the AWS error code as their name (e.g. IncorrectInstanceState).
  return error.name && error.name !== 'Error' ? `${error.name}: ${error.message}` : error.message;
}

export function awsErrorName(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const cause = error.cause;
  return cause instanceof Error ? cause.name : error.name;
}
