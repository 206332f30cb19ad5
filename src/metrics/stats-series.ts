import { emptyMinute, MinuteStats } from './stats-store.port';

/** One minute of the dashboard's 30-minute charts. */
export interface StatsPoint {
  /** Start of the minute, ISO 8601. */
  minute: string;
  poolSize: number;
  poolSizeMax: number;
  requests: number;
  hits: number;
  misses: number;
  /** misses / (hits + misses); 0 without lookups. */
  missRate: number;
  hitRate: number;
  items: number;
  bytes: number;
  evictions: number;
}

/**
 * One point per minute from `first` to `last`. A minute without any poll (the app was down) shows no
 * traffic and no items, but the pool size it last had: the nodes outlive an app restart.
 */
export function buildSeries(
  buckets: ReadonlyMap<number, MinuteStats>,
  first: number,
  last: number,
): StatsPoint[] {
  let poolSize = poolSizeBefore(buckets, first);
  const points: StatsPoint[] = [];
  for (let minute = first; minute <= last; minute++) {
    const stats = buckets.get(minute);
    if (stats) poolSize = stats.poolSize;
    points.push(stats ? toPoint(stats) : emptyPoint(minute, poolSize));
  }
  return points;
}

function poolSizeBefore(buckets: ReadonlyMap<number, MinuteStats>, first: number): number {
  let latest: number | undefined;
  for (const minute of buckets.keys()) {
    if (minute < first && (latest === undefined || minute > latest)) latest = minute;
  }
  return latest === undefined ? 0 : buckets.get(latest)!.poolSize;
}

function toPoint(stats: MinuteStats): StatsPoint {
  const lookups = stats.hits + stats.misses;
  return {
    minute: stats.minuteStart.toISOString(),
    poolSize: stats.poolSize,
    poolSizeMax: stats.poolSizeMax,
    requests: stats.requests,
    hits: stats.hits,
    misses: stats.misses,
    missRate: lookups > 0 ? stats.misses / lookups : 0,
    hitRate: lookups > 0 ? stats.hits / lookups : 0,
    items: stats.items,
    bytes: stats.bytes,
    evictions: stats.evictions,
  };
}

function emptyPoint(minute: number, poolSize: number): StatsPoint {
  return toPoint(emptyMinute(minute, poolSize));
}
