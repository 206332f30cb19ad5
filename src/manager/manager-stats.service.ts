import { Inject, Injectable, Optional } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { StatsAggregator } from '../metrics/stats.aggregator';
import { StatsPoint } from '../metrics/stats-series';
import { Clock, CLOCK, systemClock } from '../pool/clock.port';

/** The window of the "current" rates: the course's "over the last minute". */
export const RATE_WINDOW_MS = 60_000;

export interface StatsSnapshot {
  /** When the snapshot was taken, ISO 8601. */
  now: string;
  pollIntervalMs: number;
  /** One point per minute, oldest first; the last one is the minute running now. */
  points: StatsPoint[];
  /** Pool-wide over the last 60 s; rates 0 without lookups. */
  lastMinute: { missRate: number; hitRate: number; lookups: number; hits: number; misses: number };
}

/**
 * The dashboard's statistics, from this instance's aggregator of the node polls (whatever the
 * metrics driver: reading CloudWatch for every dashboard refresh would be slow and billed).
 */
@Injectable()
export class ManagerStatsService {
  private readonly clock: Clock;

  constructor(
    private readonly config: AppConfig,
    private readonly aggregator: StatsAggregator,
    @Optional() @Inject(CLOCK) clock?: Clock,
  ) {
    this.clock = clock ?? systemClock;
  }

  snapshot(minutes = 30): StatsSnapshot {
    const now = this.clock.now();
    const { hits, misses, lookups, missRate } = this.aggregator.window(now, RATE_WINDOW_MS);
    return {
      now: now.toISOString(),
      pollIntervalMs: this.config.metrics.pollIntervalMs,
      points: this.aggregator.series(now, minutes),
      lastMinute: { missRate, hitRate: lookups > 0 ? hits / lookups : 0, lookups, hits, misses },
    };
  }
}
