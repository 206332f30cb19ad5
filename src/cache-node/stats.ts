import { randomBytes } from 'node:crypto';
import type { NodeCounters, NodeIntervalStats } from '../protocol/cache-node.protocol';

export function zeroCounters(): NodeCounters {
  return {
    requests: 0,
    gets: 0,
    hits: 0,
    misses: 0,
    puts: 0,
    stored: 0,
    refused: 0,
    tooLarge: 0,
    deletes: 0,
    notOwner: 0,
    aborted: 0,
    evictions: 0,
    imported: 0,
  };
}

/**
 * Counters since start plus the running interval. An interval is the difference from a baseline
 * copy, so the hot path bumps one set of fields only. Several pollers should diff `sinceStart`
 * themselves; a single poller (the manager, every 5 s) may let the node cut intervals.
 */
export class NodeStatsRecorder {
  readonly counters = zeroCounters();
  readonly startedAt: number;
  /** This process's start, as the pool tells restarts apart (NodeHealth.boot). */
  readonly boot = randomBytes(8).toString('hex');
  private baseline = zeroCounters();
  private intervalStartedAt: number;

  constructor(private readonly now: () => number = Date.now) {
    this.startedAt = now();
    this.intervalStartedAt = this.startedAt;
  }

  /** The running interval; with `reset`, it is closed and a new one starts now. */
  interval(reset: boolean): NodeIntervalStats {
    const now = this.now();
    const current = { ...this.counters };
    const delta = zeroCounters();
    for (const name of Object.keys(delta) as Array<keyof NodeCounters>) {
      delta[name] = current[name] - this.baseline[name];
    }
    const interval: NodeIntervalStats = {
      ...delta,
      startedAt: new Date(this.intervalStartedAt).toISOString(),
      ms: now - this.intervalStartedAt,
    };
    if (reset) {
      this.baseline = current;
      this.intervalStartedAt = now;
    }
    return interval;
  }
}
