import { StatsAggregator } from '../../../src/metrics/stats.aggregator';
import { MinuteStats } from '../../../src/metrics/stats-store.port';
import { FakeStatsStore, sample, SimClock, T0 } from './stats-fixtures';

const POLL_MS = 5_000;
const MIN = 60_000;

describe('StatsAggregator', () => {
  let clock: SimClock;
  let store: FakeStatsStore;
  let sut: StatsAggregator;

  beforeEach(() => {
    clock = new SimClock();
    store = new FakeStatsStore();
    sut = new StatsAggregator(store, clock, { retentionMinutes: 30 });
  });

  /** One poll per 5 s over the minute starting at startMs; traffic per node per poll. */
  async function pollMinute(startMs: number, nodes: string[], hits: number, misses: number) {
    for (let atMs = startMs + POLL_MS; atMs <= startMs + MIN - 1; atMs += POLL_MS) {
      clock.set(atMs);
      await sut.ingest(
        nodes.map((node) => sample(node, atMs, { hits, misses, items: 100, bytes: 1000 })),
        nodes.length,
      );
    }
  }

  it('sums counters over nodes and polls, but counts items and bytes once per node', async () => {
    // 11 polls in the minute (at :05 .. :55), 3 nodes, gauges growing at every poll.
    for (let poll = 1; poll <= 11; poll++) {
      const atMs = T0 + poll * POLL_MS;
      await sut.ingest(
        ['n1', 'n2', 'n3'].map((node, i) =>
          sample(node, atMs, {
            hits: 4,
            misses: 1,
            evictions: 1,
            items: poll * 10 + i,
            bytes: poll * 1000,
          }),
        ),
        3,
      );
    }

    const [point] = sut.series(new Date(T0 + 59_000), 1);

    expect(point).toMatchObject({
      minute: '2024-05-01T12:00:00.000Z',
      poolSize: 3,
      requests: 11 * 3 * 5,
      hits: 11 * 3 * 4,
      misses: 11 * 3,
      evictions: 11 * 3,
      // The last poll's gauges: 110 + 111 + 112, not a sum over the 11 polls.
      items: 333,
      bytes: 33_000,
      missRate: 0.2,
      hitRate: 0.8,
    });
  });

  it('keeps the last and the largest pool size of a minute', async () => {
    await sut.ingest([sample('n1', T0 + 5_000), sample('n2', T0 + 5_000)], 2);
    await sut.ingest(
      ['n1', 'n2', 'n3', 'n4'].map((n) => sample(n, T0 + 10_000)),
      4,
    );
    await sut.ingest([sample('n1', T0 + 15_000)], 1);

    const [point] = sut.series(new Date(T0 + 20_000), 1);

    expect(point).toMatchObject({ poolSize: 1, poolSizeMax: 4 });
  });

  it('keeps the items of a node that missed a poll, and drops those of nodes that left the pool', async () => {
    const gauges = { items: 10, bytes: 100 };
    await sut.ingest(
      ['a', 'b', 'c'].map((n) => sample(n, T0 + 5_000, gauges)),
      3,
    );
    // b does not answer this poll: it still holds its items.
    await sut.ingest(
      ['a', 'c'].map((n) => sample(n, T0 + 10_000, gauges)),
      3,
    );
    expect(sut.series(new Date(T0 + 10_000), 1)[0]).toMatchObject({ items: 30, bytes: 300 });

    // The pool shrinks to a and c: b's entries moved to them and must not be counted twice.
    await sut.ingest(
      ['a', 'c'].map((n) => sample(n, T0 + 15_000, { items: 15, bytes: 150 })),
      2,
    );
    expect(sut.series(new Date(T0 + 15_000), 1)[0]).toMatchObject({ items: 30, bytes: 300 });
  });

  it('returns exactly 30 points, one per minute, oldest first, after 30 minutes of polls', async () => {
    for (let m = 0; m < 30; m++) await pollMinute(T0 + m * MIN, ['n1', 'n2'], m, 1);

    const now = new Date(T0 + 29 * MIN + 58_000);
    const points = sut.series(now);

    expect(points).toHaveLength(30);
    expect(points[0].minute).toBe('2024-05-01T12:00:00.000Z');
    expect(points[29].minute).toBe('2024-05-01T12:29:00.000Z');
    // 11 polls x 2 nodes per minute; minute m had m hits and 1 miss per node per poll.
    points.forEach((point, m) => {
      expect(point.hits).toBe(22 * m);
      expect(point.misses).toBe(22);
      expect(point.missRate).toBeCloseTo(1 / (m + 1), 10);
      expect(point.items).toBe(200);
      expect(point.poolSize).toBe(2);
    });
  });

  it('fills minutes without polls with zeros and carries the pool size forward', async () => {
    await pollMinute(T0 + 2 * MIN, ['n1', 'n2', 'n3'], 5, 5);
    // The app was down for minutes 3..5.
    await pollMinute(T0 + 6 * MIN, ['n1', 'n2'], 0, 0);

    const points = sut.series(new Date(T0 + 7 * MIN + 1_000), 8);

    expect(points.map((p) => p.poolSize)).toEqual([0, 0, 3, 3, 3, 3, 2, 2]);
    expect(points.map((p) => p.requests)).toEqual([0, 0, 330, 0, 0, 0, 0, 0]);
    expect(points[4]).toMatchObject({ items: 0, bytes: 0, missRate: 0, hitRate: 0 });
    // Polled, but no lookups: rates are 0, not NaN.
    expect(points[6]).toMatchObject({ requests: 0, missRate: 0, hitRate: 0, items: 200 });
  });

  it('forgets minutes older than the retention, in memory and in the store', async () => {
    for (let m = 0; m < 45; m++) await pollMinute(T0 + m * MIN, ['n1'], 1, 0);

    const points = sut.series(new Date(T0 + 44 * MIN + 30_000), 45);

    const kept = points.filter((p) => p.requests > 0);
    expect(kept.length).toBeGreaterThanOrEqual(30);
    expect(kept.length).toBeLessThanOrEqual(31);
    expect(kept[0].minute).toBe(points[45 - kept.length].minute);
    expect(store.rows.size).toBe(kept.length);
  });

  it('after a restart, a new aggregator over the same store shows the earlier minutes', async () => {
    for (let m = 0; m < 10; m++) await pollMinute(T0 + m * MIN, ['n1', 'n2'], 3, 1);
    // Half of minute 10 before the restart.
    for (let atMs = T0 + 10 * MIN + POLL_MS; atMs <= T0 + 10 * MIN + 30_000; atMs += POLL_MS) {
      await sut.ingest(
        ['n1', 'n2'].map((n) => sample(n, atMs, { hits: 3, misses: 1 })),
        2,
      );
    }
    const before = sut.series(new Date(T0 + 10 * MIN + 30_000));

    clock.set(T0 + 10 * MIN + 32_000);
    const restarted = new StatsAggregator(store, clock, { retentionMinutes: 30 });
    await restarted.restore();
    expect(restarted.series(new Date(T0 + 10 * MIN + 30_000))).toEqual(before);

    // The rest of minute 10 adds to what was counted before the restart.
    for (let atMs = T0 + 10 * MIN + 35_000; atMs < T0 + 11 * MIN; atMs += POLL_MS) {
      await restarted.ingest(
        ['n1', 'n2'].map((n) => sample(n, atMs, { hits: 3, misses: 1 })),
        2,
      );
    }
    const [minute10] = restarted.series(new Date(T0 + 10 * MIN + 59_000), 1);
    expect(minute10).toMatchObject({ hits: 11 * 2 * 3, misses: 11 * 2 });
  });

  it('reports a failed save to the caller and still saves the following polls', async () => {
    let failNext = true;
    const flaky: FakeStatsStore = Object.assign(new FakeStatsStore(), {
      save(this: FakeStatsStore, minute: MinuteStats) {
        if (failNext) {
          failNext = false;
          return Promise.reject(new Error('database is locked'));
        }
        return FakeStatsStore.prototype.save.call(this, minute);
      },
    });
    const aggregator = new StatsAggregator(flaky, clock, { retentionMinutes: 30 });

    await expect(aggregator.ingest([sample('n1', T0 + 5_000, { hits: 1 })], 1)).rejects.toThrow(
      'database is locked',
    );
    await aggregator.ingest([sample('n1', T0 + 10_000, { hits: 1 })], 1);

    expect([...flaky.rows.values()]).toEqual([expect.objectContaining({ hits: 2 })]);
  });
});
