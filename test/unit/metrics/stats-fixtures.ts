import { Clock } from '../../../src/pool/clock.port';
import { NodeStatsSample } from '../../../src/metrics/metrics.ports';
import { minuteOf, MinuteStats, StatsStore } from '../../../src/metrics/stats-store.port';

/** 2024-05-01T12:00:00Z: a whole minute, so minute arithmetic in tests reads plainly. */
export const T0 = Date.UTC(2024, 4, 1, 12, 0, 0);

export class SimClock implements Clock {
  constructor(private nowMs = T0) {}
  now(): Date {
    return new Date(this.nowMs);
  }
  async sleep(ms: number): Promise<void> {
    this.nowMs += ms;
  }
  set(ms: number): void {
    this.nowMs = ms;
  }
}

/** Keeps minutes in a Map, as a table keyed by minute would. */
export class FakeStatsStore implements StatsStore {
  readonly rows = new Map<number, MinuteStats>();
  saves = 0;

  async save(minute: MinuteStats): Promise<void> {
    this.saves++;
    this.rows.set(minuteOf(minute.minuteStart), { ...minute });
  }
  async loadSince(start: Date): Promise<MinuteStats[]> {
    return [...this.rows.entries()]
      .filter(([minute]) => minute >= minuteOf(start))
      .sort(([a], [b]) => a - b)
      .map(([, stats]) => ({ ...stats }));
  }
  async prune(before: Date): Promise<void> {
    for (const minute of this.rows.keys()) {
      if (minute < minuteOf(before)) this.rows.delete(minute);
    }
  }
}

export function sample(
  nodeId: string,
  atMs: number,
  fields: Partial<Omit<NodeStatsSample, 'nodeId' | 'at'>> = {},
): NodeStatsSample {
  const { hits = 0, misses = 0, evictions = 0, items = 0, bytes = 0 } = fields;
  return {
    nodeId,
    at: new Date(atMs),
    requests: fields.requests ?? hits + misses,
    hits,
    misses,
    evictions,
    items,
    bytes,
  };
}
