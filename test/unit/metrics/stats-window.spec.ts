import { LocalMissRateSource } from '../../../src/metrics/local-miss-rate.source';
import { NodeStatsSample } from '../../../src/metrics/metrics.ports';
import { StatsAggregator } from '../../../src/metrics/stats.aggregator';
import { FakeStatsStore, sample, SimClock, T0 } from './stats-fixtures';

const NODES = ['n1', 'n2', 'n3'];

interface Lookup {
  atMs: number;
  node: string;
  hit: boolean;
}

/** `count` lookups spread evenly over [fromMs, toMs), every tenth-ish pattern giving `missPer10` misses in 10. */
function load(fromMs: number, toMs: number, count: number, missPer10: number): Lookup[] {
  return Array.from({ length: count }, (_, i) => ({
    atMs: fromMs + Math.floor(((toMs - fromMs) * i) / count),
    node: NODES[i % NODES.length],
    hit: i % 10 >= missPer10,
  }));
}

/** What the poller does: every ~5 s (with a little jitter) each node reports its deltas since the last poll. */
async function pollThrough(
  sut: StatsAggregator,
  clock: SimClock,
  lookups: Lookup[],
  untilMs: number,
) {
  let lastMs = T0;
  for (let poll = 1; T0 + poll * 5_000 <= untilMs; poll++) {
    const atMs = T0 + poll * 5_000 + ((poll * 37) % 50);
    clock.set(atMs);
    const samples: NodeStatsSample[] = NODES.map((node) => {
      const mine = lookups.filter((l) => l.node === node && l.atMs > lastMs && l.atMs <= atMs);
      const hits = mine.filter((l) => l.hit).length;
      return sample(node, atMs, { hits, misses: mine.length - hits });
    });
    await sut.ingest(samples, NODES.length);
    lastMs = atMs;
  }
}

describe('StatsAggregator.window and LocalMissRateSource', () => {
  let clock: SimClock;
  let sut: StatsAggregator;

  beforeEach(() => {
    clock = new SimClock();
    sut = new StatsAggregator(new FakeStatsStore(), clock, { retentionMinutes: 30 });
  });

  it('measures 700 hits and 300 misses of the last 60 s as a miss rate of 0.30, ignoring older traffic', async () => {
    // Two minutes of a cold cache (90 % misses), then a minute of 1000 lookups at 30 % misses.
    const lookups = [
      ...load(T0, T0 + 120_000, 2400, 9),
      ...load(T0 + 120_000, T0 + 180_000, 1000, 3),
    ];
    await pollThrough(sut, clock, lookups, T0 + 180_100);

    // The auto-scaler asks a moment after the last poll.
    const rate = await new LocalMissRateSource(sut).missRate(new Date(T0 + 181_000), 60_000);

    expect(rate.missRate).toBeGreaterThanOrEqual(0.28);
    expect(rate.missRate).toBeLessThanOrEqual(0.32);
    expect(rate.lookups).toBeGreaterThanOrEqual(950);
    expect(rate.lookups).toBeLessThanOrEqual(1050);
    expect(rate.hits + rate.misses).toBe(rate.lookups);
  });

  it('answers for a window in the past from the polls inside it only', async () => {
    const lookups = [...load(T0, T0 + 60_000, 600, 9), ...load(T0 + 60_000, T0 + 120_000, 600, 1)];
    await pollThrough(sut, clock, lookups, T0 + 120_100);

    const first = sut.window(new Date(T0 + 60_100), 60_000);
    const second = sut.window(new Date(T0 + 120_100), 60_000);

    expect(first.missRate).toBeCloseTo(0.9, 1);
    expect(second.missRate).toBeCloseTo(0.1, 1);
  });

  it('is 0 with no lookups in the window', async () => {
    expect(await new LocalMissRateSource(sut).missRate(new Date(T0), 60_000)).toEqual({
      missRate: 0,
      lookups: 0,
      hits: 0,
      misses: 0,
    });
    // Traffic long ago, none in the last minute.
    await pollThrough(sut, clock, load(T0, T0 + 30_000, 100, 5), T0 + 240_000);
    expect(sut.window(new Date(T0 + 240_000), 60_000)).toMatchObject({ missRate: 0, lookups: 0 });
  });

  it('covers a long window after a restart from the restored minutes', async () => {
    const store = new FakeStatsStore();
    const before = new StatsAggregator(store, clock, { retentionMinutes: 30 });
    for (let atMs = T0 + 5_000; atMs <= T0 + 120_000; atMs += 5_000) {
      await before.ingest([sample('n1', atMs, { hits: 3, misses: 1 })], 1);
    }
    clock.set(T0 + 125_000);
    const after = new StatsAggregator(store, clock, { retentionMinutes: 30 });
    await after.restore();
    await after.ingest([sample('n1', T0 + 130_000, { hits: 0, misses: 2 })], 1);

    // Minutes 0 and 1 (23 polls) come from the store, the poll after the restart from the raw polls.
    // The poll at 2:00 is in minute 2, which the restart cut in two: that minute cannot be split, so
    // the window loses that one poll rather than counting minute 2's later polls twice.
    expect(after.window(new Date(T0 + 130_000), 180_000)).toEqual({
      missRate: 25 / 94,
      lookups: 23 * 4 + 2,
      hits: 23 * 3,
      misses: 23 + 2,
    });
  });

  it('refuses an empty window', async () => {
    await expect(new LocalMissRateSource(sut).missRate(new Date(T0), 0)).rejects.toThrow(
      'window must be positive',
    );
  });
});
