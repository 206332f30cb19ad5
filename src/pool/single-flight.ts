export interface SingleFlightOptions {
  /**
   * Longest wait for a shared result. A caller that joined stops waiting `deadlineMs` after it
   * joined, with `onDeadline()`'s error; and the call is forgotten `deadlineMs` after it started,
   * so a call that never settles cannot hold its key: the next caller starts afresh.
   */
  deadlineMs?: number;
  onDeadline?: (key: string) => Error;
}

/**
 * Coalesces concurrent calls for the same key into one: N readers missing the same key cause one
 * storage read, and all of them get its result (or its error).
 */
export class SingleFlight<T> {
  private readonly inFlight = new Map<string, Promise<T>>();

  constructor(private readonly options: SingleFlightOptions = {}) {}

  run(key: string, work: () => Promise<T>): Promise<T> {
    let shared = this.inFlight.get(key);
    if (!shared) {
      const started = work().finally(() => {
        if (this.inFlight.get(key) === started) this.inFlight.delete(key);
      });
      this.inFlight.set(key, started);
      shared = started;
      const { deadlineMs } = this.options;
      if (deadlineMs !== undefined) {
        const timer = setTimeout(() => {
          if (this.inFlight.get(key) === started) this.inFlight.delete(key);
        }, deadlineMs);
        timer.unref();
        started.then(
          () => clearTimeout(timer),
          () => clearTimeout(timer),
        );
      }
    }
    return this.withDeadline(key, shared);
  }

  get size(): number {
    return this.inFlight.size;
  }

  private withDeadline(key: string, shared: Promise<T>): Promise<T> {
    const { deadlineMs, onDeadline } = this.options;
    if (deadlineMs === undefined) return shared;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(onDeadline?.(key) ?? new Error(`no result for ${key} within ${deadlineMs} ms`)),
        deadlineMs,
      );
    });
    return Promise.race([shared, deadline]).finally(() => clearTimeout(timer));
  }
}
