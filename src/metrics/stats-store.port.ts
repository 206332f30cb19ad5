export const STATS_STORE = Symbol('StatsStore');

/** The pool's statistics over one wall-clock minute, as the dashboard shows them. */
export interface MinuteStats {
  /** Start of the minute (a multiple of 60 000 ms since the epoch). */
  minuteStart: Date;
  /** Pool size at the last poll of the minute. */
  poolSize: number;
  /** Largest pool size seen in the minute, so a short-lived grow is not hidden. */
  poolSizeMax: number;
  requests: number;
  hits: number;
  misses: number;
  evictions: number;
  /** Pool totals at the last poll of the minute. */
  items: number;
  bytes: number;
}

/** Where finished (and the current) minutes go, so the dashboard survives a restart of the app. */
export interface StatsStore {
  /** Inserts the minute or replaces the stored one with the same minuteStart. */
  save(minute: MinuteStats): Promise<void>;
  /** Minutes at or after minuteStart, oldest first. */
  loadSince(minuteStart: Date): Promise<MinuteStats[]>;
  /** Deletes minutes that start before `before`. */
  prune(before: Date): Promise<void>;
}

export const MINUTE_MS = 60_000;

/** Minute number since the epoch: the key of a bucket. */
export function minuteOf(at: Date | number): number {
  return Math.floor((typeof at === 'number' ? at : at.getTime()) / MINUTE_MS);
}

export function minuteStart(minute: number): Date {
  return new Date(minute * MINUTE_MS);
}

/** A minute with no traffic yet: the start of every bucket and every gap in a series. */
export function emptyMinute(minute: number, poolSize: number): MinuteStats {
  return {
    minuteStart: minuteStart(minute),
    poolSize,
    poolSizeMax: poolSize,
    requests: 0,
    hits: 0,
    misses: 0,
    evictions: 0,
    items: 0,
    bytes: 0,
  };
}
