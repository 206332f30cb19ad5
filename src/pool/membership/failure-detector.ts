/** What the detector makes of a node after a failed probe. */
export type Verdict = 'suspect' | 'quarantine' | 'remove';

export interface FailureDetectorOptions {
  /** Failed probes in a row that quarantine the node. */
  quarantineAfterFailures: number;
  /** Failing without one success for this long (and quarantined) removes it. */
  removeAfterMs: number;
}

/**
 * Consecutive failures over a window, per node. One failure makes a suspect (this instance stops
 * reading it, nothing else changes); quarantineAfterFailures in a row quarantine it; failing for
 * removeAfterMs with no success in between removes it. One success forgets everything: a node
 * that pauses for less than removeAfterMs is never removed, however many probes it missed.
 *
 * Only probes count (one at a time per node), not failed requests: a burst of concurrent reads
 * timing out on one slow moment is one event, which the probe it triggers confirms or not.
 */
export class FailureDetector {
  private readonly failing = new Map<string, { failures: number; since: number }>();

  constructor(
    private readonly options: FailureDetectorOptions,
    private readonly now: () => number,
  ) {}

  success(id: string): void {
    this.failing.delete(id);
  }

  failure(id: string): Verdict {
    const now = this.now();
    const record = this.failing.get(id) ?? { failures: 0, since: now };
    record.failures++;
    this.failing.set(id, record);
    if (record.failures < this.options.quarantineAfterFailures) return 'suspect';
    return now - record.since >= this.options.removeAfterMs ? 'remove' : 'quarantine';
  }

  /** Failures in a row and since when (ms), for the dashboard; undefined while healthy. */
  state(id: string): { failures: number; since: number } | undefined {
    const record = this.failing.get(id);
    return record ? { ...record } : undefined;
  }

  forget(id: string): void {
    this.failing.delete(id);
  }
}
