import { Clock } from '../pool/clock.port';
import { MissRate, NodeStatsSample } from './metrics.ports';
import { PoolGauges } from './pool-gauges';
import { RecentSamples } from './recent-samples';
import { buildSeries, StatsPoint } from './stats-series';
import {
  emptyMinute,
  MINUTE_MS,
  minuteOf,
  minuteStart,
  MinuteStats,
  StatsStore,
} from './stats-store.port';

/** Told about every poll after it is aggregated (the Prometheus node metrics listen here). */
export interface StatsObserver {
  observe(samples: NodeStatsSample[], poolSize: number, members: readonly string[]): void;
}

export interface StatsAggregatorOptions {
  /** Minutes kept in memory and in the store, besides the current one (config metrics.retentionMinutes). */
  retentionMinutes: number;
  observers?: StatsObserver[];
}

/** Raw deltas serve sliding windows up to this long exactly; older parts of a window use whole minutes. */
export const RAW_SAMPLE_KEEP_MS = 10 * MINUTE_MS;

/**
 * Per-minute pool statistics from the 5-second node polls. Counters are summed; items and bytes are
 * the pool total at the minute's last poll. Every poll re-saves the minutes it touched, so a restart
 * loses at most the poll in flight; `restore()` reloads them.
 */
export class StatsAggregator {
  private readonly buckets = new Map<number, MinuteStats>();
  private readonly gauges = new PoolGauges();
  private readonly recent: RecentSamples;
  private latestMinute = -Infinity;
  /** Saves run one after another, so an older snapshot of a minute never overwrites a newer one. */
  private persisting: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: StatsStore,
    private readonly clock: Clock,
    private readonly options: StatsAggregatorOptions,
  ) {
    this.recent = new RecentSamples(clock.now().getTime(), RAW_SAMPLE_KEEP_MS);
  }

  /** Reloads the retained minutes from the store; call once before the first ingest. */
  async restore(): Promise<void> {
    const horizon = minuteOf(this.clock.now()) - this.options.retentionMinutes;
    for (const stats of await this.store.loadSince(minuteStart(horizon))) {
      const minute = minuteOf(stats.minuteStart);
      if (!this.buckets.has(minute)) this.buckets.set(minute, { ...stats });
      this.latestMinute = Math.max(this.latestMinute, minute);
    }
  }

  /** One poll: per-node deltas since the previous poll plus gauges now. Resolves once persisted. */
  ingest(samples: NodeStatsSample[], poolSize: number): Promise<void> {
    const pollAtMs = samples.length
      ? Math.max(...samples.map((sample) => sample.at.getTime()))
      : this.clock.now().getTime();
    const pollMinute = minuteOf(pollAtMs);
    const rolledOver = pollMinute > this.latestMinute;
    this.latestMinute = Math.max(this.latestMinute, pollMinute);
    const horizon = this.latestMinute - this.options.retentionMinutes;

    const touched = new Set<number>([pollMinute]);
    for (const sample of samples) {
      const minute = minuteOf(sample.at);
      if (minute < horizon) continue;
      const bucket = this.bucket(minute, poolSize);
      bucket.requests += sample.requests;
      bucket.hits += sample.hits;
      bucket.misses += sample.misses;
      bucket.evictions += sample.evictions;
      touched.add(minute);
    }
    this.gauges.update(samples, poolSize);
    const pollBucket = this.bucket(pollMinute, poolSize);
    Object.assign(pollBucket, this.gauges.totals());
    pollBucket.poolSize = poolSize;
    pollBucket.poolSizeMax = Math.max(pollBucket.poolSizeMax, poolSize);

    this.recent.add(samples);
    this.recent.prune(pollAtMs);
    if (rolledOver) this.forgetBefore(horizon);
    for (const observer of this.options.observers ?? []) {
      observer.observe(samples, poolSize, this.gauges.members());
    }
    return this.persist([...touched], rolledOver ? horizon : undefined);
  }

  /** Exactly `minutes` points, oldest first, the last one being the minute of `now`. */
  series(now: Date, minutes = 30): StatsPoint[] {
    const last = minuteOf(now);
    return buildSeries(this.buckets, last - minutes + 1, last);
  }

  /** Hits and misses over (windowEnd - windowMs, windowEnd], from raw polls where they are kept. */
  window(windowEnd: Date, windowMs: number): MissRate {
    if (!(windowMs > 0)) throw new Error(`miss-rate window must be positive, got ${windowMs} ms`);
    const endMs = windowEnd.getTime();
    const startMs = endMs - windowMs;
    const { hits, misses } = this.recent.sum(startMs, endMs);
    const older = this.wholeMinutesBefore(this.recent.completeSince, startMs, endMs);
    const totalHits = hits + older.hits;
    const totalMisses = misses + older.misses;
    const lookups = totalHits + totalMisses;
    return {
      missRate: lookups > 0 ? totalMisses / lookups : 0,
      lookups,
      hits: totalHits,
      misses: totalMisses,
    };
  }

  /** Minute buckets lying wholly inside [startMs, min(rawSinceMs, endMs)): the part raw polls no longer cover. */
  private wholeMinutesBefore(rawSinceMs: number, startMs: number, endMs: number) {
    const limitMs = Math.min(rawSinceMs, endMs);
    let hits = 0;
    let misses = 0;
    for (const [minute, stats] of this.buckets) {
      if (minute * MINUTE_MS >= startMs && (minute + 1) * MINUTE_MS <= limitMs) {
        hits += stats.hits;
        misses += stats.misses;
      }
    }
    return { hits, misses };
  }

  private bucket(minute: number, poolSize: number): MinuteStats {
    let bucket = this.buckets.get(minute);
    if (!bucket) {
      bucket = emptyMinute(minute, poolSize);
      this.buckets.set(minute, bucket);
    }
    return bucket;
  }

  private forgetBefore(horizon: number): void {
    for (const minute of this.buckets.keys()) {
      if (minute < horizon) this.buckets.delete(minute);
    }
  }

  private persist(minutes: number[], pruneBefore: number | undefined): Promise<void> {
    const snapshots = minutes
      .sort((a, b) => a - b)
      .map((minute) => ({ ...this.buckets.get(minute)! }));
    const run = this.persisting.then(async () => {
      for (const snapshot of snapshots) await this.store.save(snapshot);
      if (pruneBefore !== undefined) await this.store.prune(minuteStart(pruneBefore));
    });
    // A failed save is reported to this poll's caller but must not block the saves of later polls.
    this.persisting = run.catch(() => undefined);
    return run;
  }
}
