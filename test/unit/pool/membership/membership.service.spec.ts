import { Logger } from '@nestjs/common';
import { Registry } from 'prom-client';
import { loadConfig } from '../../../../src/config/config-loader';
import { createAllocator } from '../../../../src/pool/routing/allocators';
import { regionsOf } from '../../../../src/pool/routing/assignment';
import { CacheSettingsSource } from '../../../../src/pool/cache-settings';
import { partition } from '../../../../src/protocol/hash-ring';
import { MembershipService } from '../../../../src/pool/membership/membership.service';
import { NodeEndpoint } from '../../../../src/pool/providers/node-provider.port';
import { NodeSetup } from '../../../../src/pool/membership/node-setup.service';
import { MembershipChange, PoolEvents } from '../../../../src/pool/pool-events';
import { PoolRouter } from '../../../../src/pool/routing/pool-router.service';
import { ResizeService } from '../../../../src/pool/membership/resize.service';
import { spawnCacheNode, SpawnedCacheNode } from '../../../support/spawn-cache-node';
import { FakeNodeProvider } from '../fakes/fake-node.provider';
import { balanced } from '../fakes/fake-pool-router';
import { InMemoryPoolStateStore } from '../fakes/in-memory-pool-state.store';
import { FakeNodeFailures } from '../fakes/fake-node-failures';
import { deferred } from '../fakes/deferred';
import { CacheNodeClient } from '../../../../src/pool/client/cache-node.client';
import { PoolCacheService } from '../../../../src/pool/pool-cache.service';

/** Quarantine and rejoin against two real cache nodes, with the real router, setup and resizer. */
describe('MembershipService with real nodes', () => {
  let live: SpawnedCacheNode[];
  let router: PoolRouter;
  let store: InMemoryPoolStateStore;
  let sut: MembershipService;
  let changes: MembershipChange[];
  let registry: Registry;
  let announced: number[];

  beforeAll(async () => {
    Logger.overrideLogger(false);
    live = await Promise.all([
      spawnCacheNode({ capacityMb: 1 }),
      spawnCacheNode({ capacityMb: 1 }),
    ]);
  });
  afterAll(async () => {
    await Promise.all((live ?? []).map((n) => n.stop()));
  });
  /** The nodes live across tests: each test starts its pool above the epoch they reached. */
  let base = 0;
  const at = (offset: number) => base + offset;

  beforeEach(async () => {
    base += 10;
    const members: NodeEndpoint[] = [
      { id: 'a', url: live[0].url },
      { id: 'b', url: live[1].url },
    ];
    store = new InMemoryPoolStateStore({
      epoch: at(1),
      owners: balanced(['a', 'b']),
      nodes: members,
      previous: null,
    });
    const config = loadConfig();
    router = new PoolRouter(config, store);
    await router.reload();
    const settings: CacheSettingsSource = {
      current: async () => ({ capacityMb: 1, policy: 'lru' }),
    };
    const setup = new NodeSetup(config, router, settings);
    for (const node of members) {
      await setup.prepare(node, at(1));
      await router.node(node.id)!.client.setOwnership(at(1), regionsOf(store.stored!, node.id));
    }
    const events = new PoolEvents();
    changes = [];
    announced = [];
    events.subscribe({
      membershipChanged: (change) => changes.push(change),
      assignmentChanged: (state) => announced.push(state.epoch),
    });
    const resizer = new ResizeService(
      config,
      router,
      setup,
      events,
      new FakeNodeProvider(3),
      store,
      createAllocator('balanced'),
    );
    registry = new Registry();
    sut = new MembershipService(router, resizer, setup, events, registry);
  });
  afterEach(() => router.onModuleDestroy());

  const keyOf = (id: string) =>
    ['k1', 'k2', 'test', 'test123', 'x1', 'x2', 'x3'].find(
      (key) => store.stored!.owners[partition(key)] === id,
    )!;

  it('quarantine: a new epoch in which nobody reads or invalidates the node; regions unchanged', async () => {
    await sut.quarantine('a', '2 failed health checks');

    const state = store.stored!;
    expect(state).toMatchObject({ epoch: at(2), quarantined: ['a'] });
    expect(state.owners).toEqual(balanced(['a', 'b']));
    expect(router.route(keyOf('a')).node).toBeNull();
    expect(router.owner(keyOf('a')).node).toBeNull();
    expect(router.route(keyOf('b')).node?.id).toBe('b');
    expect(announced).toEqual([at(2)]);
    expect(changes).toMatchObject([{ change: 'quarantined', node: 'a' }]);
    expect(await registry.getSingleMetricAsString('pixpool_membership_changes_total')).toMatch(
      /change="quarantined"\} 1/,
    );

    await sut.quarantine('a', 'again'); // idempotent
    expect(store.stored!.epoch).toBe(at(2));
  });

  it('a missed invalidation on a quarantined node still saves a new epoch, so a rejoin begun before it fails', async () => {
    await sut.quarantine('a', '2 failed health checks');
    // Another instance starts a rejoin from this state (it empties the node, then saves)...
    const seenByRejoin = store.stored!.epoch;
    // ...and meanwhile an upload here could not invalidate the node.
    await sut.quarantine('a', 'invalidation failed', true);

    expect(store.stored).toMatchObject({ epoch: at(3), quarantined: ['a'] });
    expect(await store.compareAndSave(seenByRejoin, { ...store.stored!, epoch: at(3) })).toBe(
      false,
    );
  });

  it('rejoin: the node drops everything it held before anyone reads it again', async () => {
    const key = keyOf('a');
    const region = partition(key);
    const a = router.node('a')!.client;
    await a.put(key, region, Buffer.from('old image'), { version: 1 }, at(1));
    await sut.quarantine('a', 'missed an invalidation');
    // An upload of version 2 while quarantined: acknowledged without telling a.

    await sut.rejoin('a');

    const state = store.stored!;
    expect(state.epoch).toBe(at(3));
    expect(state.quarantined).toBeUndefined();
    expect(router.route(key).node?.id).toBe('a');
    expect(await a.getOwnership()).toEqual({ epoch: at(3), regions: regionsOf(state, 'a') });
    expect((await a.get(key, region, at(3))).kind).toBe('miss');
    expect((await a.stats()).items).toBe(0);
    expect(changes.map((c) => c.change)).toEqual(['quarantined', 'rejoined']);
  });

  it('a rejoin held between emptying the node and saving is not refilled with an image an upload skipping the node replaced', async () => {
    const key = keyOf('a');
    const region = partition(key);
    await sut.quarantine('a', 'missed an invalidation');
    // A front-end that has not adopted the quarantine still reads and fills a at the old epoch.
    const lagging = new CacheNodeClient({ url: live[0].url, timeoutMs: 1000 });
    const uploader = new PoolCacheService(router, new FakeNodeFailures() as never);
    const save = deferred();
    const compareAndSave = store.compareAndSave.bind(store);
    store.compareAndSave = async (epoch, next) => {
      await save.promise; // the rejoin's save waits here, the node already emptied and given its regions
      return compareAndSave(epoch, next);
    };
    try {
      const rejoin = sut.rejoin('a');
      const a = router.node('a')!.client;
      for (let i = 0; (await a.getOwnership()).epoch !== at(3); i++) {
        if (i > 1000) throw new Error('the rejoin never gave the node its regions');
        await new Promise((resolve) => setTimeout(resolve, 10));
      }

      const miss = await lagging.get(key, region, at(1)); // the lagging reader misses...
      expect(miss.kind).toBe('miss');
      // ...and loads version 1 from storage; then version 2 commits, its upload skipping a...
      await uploader.invalidate(key, 2);
      // ...and the reader fills what it loaded.
      if (miss.kind === 'miss')
        await lagging
          .put(key, region, Buffer.from('v1'), { version: 1, lease: miss.lease }, at(1))
          .catch(() => undefined);
      save.resolve();
      await rejoin;

      expect(store.stored).toMatchObject({ epoch: at(3) });
      expect(router.route(key).node?.id).toBe('a');
      expect((await a.get(key, region, at(3))).kind).toBe('miss');
    } finally {
      save.resolve();
      lagging.close();
    }
  });

  it('restarted: a node that knows nothing (epoch 0) is quarantined, then rejoins empty at a new epoch; one told the stored epoch is left alone', async () => {
    await sut.restarted('a'); // a answers at the stored epoch: given its regions since it started
    expect(store.stored).toMatchObject({ epoch: at(1) });

    await live[1].stop(); // b is killed and restarted on its address
    live[1] = await spawnCacheNode({ capacityMb: 1, port: live[1].port });
    const b = router.node('b')!.client;
    expect(await b.health()).toMatchObject({ epoch: 0, regions: [] });

    await sut.restarted('b');
    expect(store.stored).toMatchObject({ epoch: at(2), quarantined: ['b'] });
    await sut.rejoin('b');
    expect(await b.getOwnership()).toEqual({
      epoch: at(3),
      regions: regionsOf(store.stored!, 'b'),
    });
    expect(router.route(keyOf('b')).node?.id).toBe('b');
  });

  it('a rejoin that cannot reach the node changes nothing: it stays quarantined', async () => {
    await sut.quarantine('b', 'probe failed');
    await live[1].stop();

    await expect(sut.rejoin('b')).rejects.toThrow();

    expect(store.stored).toMatchObject({ epoch: at(2), quarantined: ['b'] });
    expect(router.route(keyOf('b')).node).toBeNull();
  });
});
