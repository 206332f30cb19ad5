import { loadConfig } from '../../../src/config/config-loader';
import { CacheSettingsReconciler } from '../../../src/manager/cache-settings.reconciler';
import { ManagerStatsService } from '../../../src/manager/manager-stats.service';
import { StoredCacheSettings } from '../../../src/manager/settings/stored-cache-settings';
import { StatsPoller } from '../../../src/manager/stats-poller.service';
import { StatsAggregator } from '../../../src/metrics/stats.aggregator';
import { CacheNodeClient } from '../../../src/pool/client/cache-node.client';
import { partition } from '../../../src/protocol/hash-ring';
import { PoolRouter } from '../../../src/pool/routing/pool-router.service';
import { PoolState, PoolStateStore } from '../../../src/pool/routing/pool-state';
import { spawnCacheNode, SpawnedCacheNode } from '../../support/spawn-cache-node';
import { FakeStatsStore, SimClock, T0 } from '../metrics/stats-fixtures';
import { MemorySettingsStore } from './manager-fixtures';

const MIB = 1024 * 1024;
const config = loadConfig({ overrides: { metrics: { pollIntervalMs: 5000 } } });

/** Two real cache nodes owning 8 regions each, routed by a real PoolRouter. */
describe('StatsPoller with real cache nodes', () => {
  let nodes: SpawnedCacheNode[];
  let state: PoolState;
  let router: PoolRouter;
  let clients: CacheNodeClient[];

  beforeAll(async () => {
    nodes = await Promise.all([0, 1].map(() => spawnCacheNode({ capacityMb: 8, policy: 'lru' })));
    const ids = ['a', 'b'];
    state = {
      epoch: 1,
      owners: Array.from({ length: 16 }, (_, region) => ids[region % 2]),
      nodes: nodes.map((node, i) => ({ id: ids[i], url: node.url })),
    };
    const store: PoolStateStore = {
      load: async () => state,
      compareAndSave: async () => false,
      epoch: async () => state.epoch,
    };
    router = new PoolRouter(config, store);
    router.adopt(state);
    clients = nodes.map((node) => new CacheNodeClient({ url: node.url }));
    await Promise.all(
      clients.map((client, i) =>
        client.setOwnership(
          1,
          [...Array(16).keys()].filter((r) => r % 2 === i),
        ),
      ),
    );
  });
  afterAll(async () => {
    router.onModuleDestroy();
    clients.forEach((client) => client.close());
    await Promise.all(nodes.map((node) => node.stop()));
  });

  function setUp(clock = new SimClock()) {
    const settings = new StoredCacheSettings(new MemorySettingsStore(), {
      capacityMb: 8,
      policy: 'lru',
    });
    const aggregator = new StatsAggregator(new FakeStatsStore(), clock, { retentionMinutes: 30 });
    const reconciler = new CacheSettingsReconciler(settings);
    const sut = new StatsPoller(config, router, aggregator, reconciler, null, clock);
    return { sut, aggregator, settings, clock };
  }

  /** A read through the owner: a miss, then the fill, so the next read of the key hits. */
  async function read(key: string, fill = true): Promise<void> {
    const region = partition(key);
    const { node } = router.route(key);
    const answer = await node!.client.get(key, region, router.epoch);
    if (answer.kind === 'miss' && fill) {
      await node!.client.put(
        key,
        region,
        Buffer.from(`image ${key}`),
        { version: 1, lease: answer.lease },
        router.epoch,
      );
    }
  }

  it('turns each node’s traffic since the last poll into counts, and the gauges into pool totals', async () => {
    const { sut, aggregator, clock } = setUp();
    await sut.pollOnce(); // first sight of the nodes: their totals so far are the baseline
    for (const key of ['k1', 'k2', 'test', 'test123']) await read(key); // 4 misses, 4 fills
    for (const key of ['k1', 'k2', 'test']) await read(key); // 3 hits
    clock.set(T0 + 5000);

    const polled = await sut.pollOnce();

    expect(polled.map((p) => p.node.id).sort()).toEqual(['a', 'b']);
    expect(aggregator.window(clock.now(), 60_000)).toMatchObject({ hits: 3, misses: 4 });
    const [point] = aggregator.series(clock.now(), 1);
    expect(point).toMatchObject({ poolSize: 2, hits: 3, misses: 4, items: 4 });
    expect(point.bytes).toBeGreaterThan(4 * 'image k1'.length);
    expect(point.requests).toBe(3 + 4 + 4); // gets and fills alike
    expect(sut.latestStats('a')?.capacityBytes).toBe(8 * MIB);

    clock.set(T0 + 10_000);
    await sut.pollOnce(); // no traffic since: nothing is counted twice
    expect(aggregator.window(clock.now(), 60_000)).toMatchObject({ hits: 3, misses: 4 });
  });

  it('two pollers of the same nodes (two app instances) each count all of the traffic', async () => {
    const first = setUp();
    const second = setUp();
    await Promise.all([first.sut.pollOnce(), second.sut.pollOnce()]);
    for (const key of ['k1', 'k2']) await read(key); // hits: filled by the test above
    await read('two-pollers', false); // a miss
    await first.sut.pollOnce();
    first.clock.set(T0 + 5000);
    second.clock.set(T0 + 5000);
    await first.sut.pollOnce();
    await second.sut.pollOnce();
    for (const { aggregator, clock } of [first, second]) {
      expect(aggregator.window(clock.now(), 60_000)).toMatchObject({ hits: 2, misses: 1 });
    }
  });

  it('re-configures a node that drifted from the stored cache settings, and pushes a change', async () => {
    const { sut, settings } = setUp();
    await clients[1].setConfig({ capacityBytes: 16 * MIB, policy: 'random' });
    await sut.pollOnce();
    expect(await clients[1].getConfig()).toEqual({ capacityBytes: 8 * MIB, policy: 'lru' });

    await settings.save({ capacityMb: 4, policy: 'sieve' });
    await sut.pollOnce();
    for (const client of clients) {
      expect(await client.getConfig()).toEqual({ capacityBytes: 4 * MIB, policy: 'sieve' });
    }
    await settings.save({ capacityMb: 8, policy: 'lru' });
    await sut.pollOnce();
  });

  it('30 simulated minutes of polls make 30 one-minute points of the dashboard', async () => {
    const clock = new SimClock(T0);
    const { sut, aggregator } = setUp(clock);
    await sut.pollOnce();
    const stats = new ManagerStatsService(config, aggregator, clock);
    for (let poll = 1; poll <= 30 * 12; poll++) {
      await read(`miss-${poll}`, false); // one miss per 5-second poll: 12 a minute
      clock.set(T0 + poll * 5000 - 1);
      await sut.pollOnce();
    }

    const snapshot = stats.snapshot(30);

    expect(snapshot.points).toHaveLength(30);
    expect(snapshot.points[0].minute).toBe(new Date(T0).toISOString());
    for (const point of snapshot.points) {
      expect(point).toMatchObject({ poolSize: 2, misses: 12, hits: 0, missRate: 1, hitRate: 0 });
    }
    expect(snapshot.lastMinute).toMatchObject({ lookups: 12, missRate: 1, hitRate: 0 });
  });

  it('counts the first traffic of a node a grow added after this instance began polling', async () => {
    const { sut, aggregator, clock } = setUp();
    await sut.pollOnce();
    const joined = await spawnCacheNode({ capacityMb: 8, policy: 'lru' });
    const client = new CacheNodeClient({ url: joined.url });
    try {
      const grown: PoolState = {
        epoch: 2,
        owners: state.owners.map((owner, region) => (region === 0 ? 'c' : owner)),
        nodes: [...state.nodes, { id: 'c', url: joined.url }],
      };
      router.adopt(grown);
      await client.setOwnership(2, [0]);
      const key = 'test'; // region 0
      for (let i = 0; i < 5; i++) await read(key); // 1 miss + fill, then 4 hits, before any poll
      clock.set(T0 + 5000);

      await sut.pollOnce();

      expect(aggregator.window(clock.now(), 60_000)).toMatchObject({ hits: 4, misses: 1 });
    } finally {
      router.adopt({ ...state, epoch: 3 });
      await client.setOwnership(3, []).catch(() => undefined);
      client.close();
      await joined.stop();
    }
  });

  it('leaves out a node that does not answer and still counts the others', async () => {
    const { sut, aggregator, clock } = setUp();
    await sut.pollOnce();
    await nodes[1].stop();
    const key = ['k1', 'k2', 'test', 'test123'].find((k) => router.route(k).node?.id === 'a')!;
    await read(key);
    clock.set(T0 + 5000);

    const polled = await sut.pollOnce();

    expect(polled.map((p) => p.node.id)).toEqual(['a']);
    expect(aggregator.window(clock.now(), 60_000).lookups).toBe(1);
    expect(aggregator.series(clock.now(), 1)[0].poolSize).toBe(2);
  });
});
