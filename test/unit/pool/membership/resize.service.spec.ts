import { ConflictException, Logger } from '@nestjs/common';
import { loadConfig } from '../../../../src/config/config-loader';
import { createAllocator } from '../../../../src/pool/routing/allocators';
import { CacheSettingsSource } from '../../../../src/pool/cache-settings';
import { NodeEndpoint } from '../../../../src/pool/providers/node-provider.port';
import { NodeSetup } from '../../../../src/pool/membership/node-setup.service';
import { PoolEvents } from '../../../../src/pool/pool-events';
import { PoolRouter } from '../../../../src/pool/routing/pool-router.service';
import { PoolState } from '../../../../src/pool/routing/pool-state';
import { ResizeInProgressError } from '../../../../src/pool/membership/resize-lock';
import { ResizeService } from '../../../../src/pool/membership/resize.service';
import { spawnCacheNode, SpawnedCacheNode } from '../../../support/spawn-cache-node';
import { deadNode, DeadNode } from '../fakes/dead-node';
import { eventually } from '../fakes/deferred';
import { FakeNodeProvider } from '../fakes/fake-node.provider';
import { balanced } from '../fakes/fake-pool-router';
import { InMemoryPoolStateStore } from '../fakes/in-memory-pool-state.store';
import { poolState, regionCounts } from '../fakes/pool-state.fixtures';
import { world, World } from '../fakes/resize-world';

const ids = (state: PoolState | null | undefined) => state?.nodes.map((n) => n.id);

describe('ResizeService', () => {
  let w: World;
  beforeAll(() => Logger.overrideLogger(false));
  afterEach(() => w?.router.onModuleDestroy());

  describe('resizeTo', () => {
    it('grows 1 → 3: starts two prepared nodes, saves epoch 2, pushes ownership, moves regions', async () => {
      w = await world(1);
      const storedAtPush: (number | undefined)[] = [];
      w.setup.onPush = () => storedAtPush.push(w.store.stored?.epoch);

      const next = await w.sut.resizeTo(3, 'test');

      expect(next.epoch).toBe(2);
      expect(ids(next)).toEqual(['n1', 'n2', 'n3']);
      expect(w.store.stored).toEqual(next);
      expect(next.previous).toEqual({
        owners: poolState(1, ['n1']).owners,
        nodes: poolState(1, ['n1']).nodes,
      });
      expect(Object.values(regionCounts(next)).sort()).toEqual([5, 5, 6]);
      expect(w.provider.adopted).toEqual([['n1']]);
      expect(w.setup.prepared).toEqual([
        { id: 'n2', epoch: 1 },
        { id: 'n3', epoch: 1 },
      ]);
      expect(w.setup.pushes).toEqual([{ nodes: ['n1', 'n2', 'n3'], prevEpoch: 1, nextEpoch: 2 }]);
      expect(storedAtPush).toEqual([2]); // saved before any node is told
      expect(w.setup.moves).toEqual([
        { prevEpoch: 1, nextEpoch: 2, nodes: ['n1', 'n2', 'n3'], removed: [], dead: [] },
      ]);
      expect(w.journal).toEqual(['start 2', 'prepare n2', 'prepare n3', 'push 2', 'move 1→2']);
      expect(w.provider.stopped).toEqual([]);
      expect(w.resized).toEqual(['grow ok']);
      expect(w.announced).toEqual([2]);
      expect(w.router.epoch).toBe(2);
      expect(w.sut.size()).toBe(3);
      expect(w.sut.isResizing()).toBe(false);
      expect(w.sut.progress()).toBeNull();
    });

    it('shrinks 3 → 1: moves the regions away first, then stops the removed nodes', async () => {
      w = await world(3);

      const next = await w.sut.resizeTo(1, 'test');

      expect(next.epoch).toBe(2);
      expect(ids(next)).toEqual(['n1']);
      expect(next.owners.every((o) => o === 'n1')).toBe(true);
      expect(w.setup.pushes).toEqual([{ nodes: ['n1', 'n2', 'n3'], prevEpoch: 1, nextEpoch: 2 }]);
      expect(w.setup.moves[0].removed).toEqual(['n2', 'n3']);
      expect(w.journal).toEqual(['push 2', 'move 1→2', 'stop n2,n3']);
      expect(w.resized).toEqual(['shrink ok']);
      expect(w.store.stored?.epoch).toBe(2);
    });

    it('changes nothing when the pool already has the size asked for', async () => {
      w = await world(2);
      const state = await w.sut.resizeTo(2, 'test');
      expect(state.epoch).toBe(1);
      expect(w.store.saves).toEqual([]);
      expect(w.journal).toEqual([]);
    });

    it.each([1, 5, 2.5, Number.NaN])(
      'refuses size %p outside min..max (2..4) with a 409',
      async (size) => {
        w = await world(2, { min: 2, max: 4 });

        const attempt = (async () => w.sut.resizeTo(size, 'test'))();

        await expect(attempt).rejects.toBeInstanceOf(ConflictException);
        await expect(attempt).rejects.toThrow(/2\.\.4/);
        expect(w.journal).toEqual([]);
        expect(w.store.saves).toEqual([]);
      },
    );

    it('refuses a second resize while one runs with a 409 naming the running one', async () => {
      w = await world(1);
      const release = w.provider.holdNextStart();
      const first = w.sut.resizeTo(3, 'operator');
      await eventually(() => w.journal.includes('start 2'));

      const second = w.sut.resizeTo(2, 'autoscaler');

      await expect(second).rejects.toBeInstanceOf(ResizeInProgressError);
      await expect(second).rejects.toThrow(/resize to 3: operator/);
      expect(w.sut.isResizing()).toBe(true);
      expect(w.sut.progress()?.step).toMatch(/starting 2 node/);
      release();
      await expect(first).resolves.toMatchObject({ epoch: 2 });
      expect(w.store.saves).toHaveLength(1);
    });

    it('saves nothing and reports the failure when a node does not start', async () => {
      w = await world(1);
      w.provider.failNextStart = new Error('node on port 5002 exited with 1');

      await expect(w.sut.resizeTo(3, 'test')).rejects.toThrow('node on port 5002 exited with 1');

      expect(w.store.saves).toEqual([]);
      expect(w.router.epoch).toBe(1);
      expect(w.setup.pushes).toEqual([]);
      expect(w.resized).toEqual(['grow failed']);
      expect(w.sut.isResizing()).toBe(false);
      expect(w.sut.progress()).toBeNull();
    });

    it('stops the nodes it started when one of them cannot be prepared', async () => {
      w = await world(1);
      w.setup.failPrepare = 'n3';

      await expect(w.sut.resizeTo(3, 'test')).rejects.toThrow('n3: clear failed');

      expect(w.provider.stopped).toEqual([['n2', 'n3']]);
      expect(w.provider.running).toEqual(new Set(['n1']));
      expect(w.store.saves).toEqual([]);
      expect(w.resized).toEqual(['grow failed']);
    });

    it('answers 409 and stops its new nodes when another instance saved a change first', async () => {
      w = await world(1);
      const theirs = poolState(2, ['n1', 'other'], poolState(1, ['n1']));
      w.provider.beforeStart = () => w.store.saveAsAnotherInstance(theirs);

      const attempt = w.sut.resizeTo(3, 'test');

      await expect(attempt).rejects.toBeInstanceOf(ConflictException);
      await expect(attempt).rejects.toThrow(/another app instance/);
      expect(w.provider.stopped).toEqual([['n2', 'n3']]);
      expect(w.store.stored).toEqual(theirs);
      expect(w.router.epoch).toBe(2); // now routes by the winner's assignment
      expect(w.setup.pushes).toEqual([]);
      expect(w.resized).toEqual(['grow failed']);
    });

    it('answers 409 before the pool has started', async () => {
      w = await world(0);
      await expect(w.sut.resizeTo(2, 'test')).rejects.toThrow(/not started/);
    });

    it('replaces a member that could not be told the new ownership afterwards', async () => {
      w = await world(1);
      w.setup.unreachableOnNextPush = ['n3'];

      const grown = await w.sut.resizeTo(3, 'test');
      expect(ids(grown)).toEqual(['n1', 'n2', 'n3']);

      await eventually(() => w.store.stored?.epoch === 3);
      expect(ids(w.store.stored)).toEqual(['n1', 'n2', 'n4']);
      expect(w.store.stored?.target).toBe(3);
      expect(w.provider.stopped).toEqual([['n3']]);
      expect(w.sut.isResizing()).toBe(false);
    });

    it('does not repair again for a removed node that could not be told (it is stopped anyway)', async () => {
      w = await world(3);
      w.setup.unreachableOnNextPush = ['n3'];

      await w.sut.resizeTo(2, 'test');
      await new Promise((resolve) => setTimeout(resolve, 250));

      expect(w.store.saves).toHaveLength(1);
      expect(w.provider.stopped).toEqual([['n3']]);
    });
  });

  describe('removeFailed', () => {
    it('replaces a dead node in one change: the replacement takes its regions, then it is stopped', async () => {
      w = await world(3);

      await expect(w.sut.removeFailed('n2', 'no answer')).resolves.toBe('n4');

      const state = w.store.stored as PoolState;
      expect(state.epoch).toBe(2);
      expect(ids(state)).toEqual(['n1', 'n3', 'n4']);
      expect(state.target).toBe(3);
      // Balanced: the newcomer takes over exactly the dead node's regions, nothing else moves.
      const before = poolState(1, ['n1', 'n2', 'n3']).owners;
      expect(state.owners.map((o, r) => (before[r] === 'n2' ? o : 'same'))).not.toContain('n1');
      expect(state.owners.filter((o) => o === 'n4')).toHaveLength(
        before.filter((o) => o === 'n2').length,
      );
      expect(w.setup.prepared).toEqual([{ id: 'n4', epoch: 1 }]);
      expect(w.setup.moves[0].removed).toEqual(['n2']);
      // Stopped last: after the start, the save and the region moves.
      expect(w.journal.indexOf('start 1')).toBeLessThan(w.journal.lastIndexOf('stop n2'));
      expect(w.provider.stopped).toEqual([['n2']]);
    });

    it('still removes the dead node when no replacement starts, keeping the target to heal to', async () => {
      w = await world(3);
      w.provider.failNextStart = new Error('no capacity');

      await expect(w.sut.removeFailed('n2', 'no answer')).resolves.toBeNull();

      expect(ids(w.store.stored)).toEqual(['n1', 'n3']);
      expect(w.store.stored?.target).toBe(3);
      expect(w.provider.stopped).toContainEqual(['n2']);
    });

    it('gives the dead node’s regions to the others and stops it (membership.replace off)', async () => {
      w = await world(3, { replace: false });

      await w.sut.removeFailed('n2', 'no answer');

      const state = w.store.stored;
      expect(state?.epoch).toBe(2);
      expect(ids(state)).toEqual(['n1', 'n3']);
      expect(state?.owners).not.toContain('n2');
      expect(Object.values(regionCounts(state as PoolState)).sort()).toEqual([8, 8]);
      expect(w.setup.moves[0].removed).toEqual(['n2']);
      expect(w.provider.stopped).toEqual([['n2']]);
      expect(w.journal).not.toContain('start 1');
      expect(w.announced).toEqual([2]);
    });

    it('starts a replacement when the pool would fall below its minimum', async () => {
      w = await world(2, { min: 2 });

      await w.sut.removeFailed('n1', 'no answer');

      expect(ids(w.store.stored)).toEqual(['n2', 'n3']);
      expect(w.setup.prepared).toEqual([{ id: 'n3', epoch: 1 }]);
      expect(w.provider.stopped).toEqual([['n1']]);
    });

    it('replaces the last node of the pool', async () => {
      w = await world(1);
      await w.sut.removeFailed('n1', 'no answer');
      expect(ids(w.store.stored)).toEqual(['n2']);
      expect(w.store.stored?.owners.every((o) => o === 'n2')).toBe(true);
    });

    it('does nothing for a node that is not in the pool', async () => {
      w = await world(2);
      await w.sut.removeFailed('n9', 'no answer');
      expect(w.store.saves).toEqual([]);
    });

    it('waits for a running resize instead of failing, then removes the node', async () => {
      w = await world(1);
      const release = w.provider.holdNextStart();
      const grow = w.sut.resizeTo(2, 'operator');
      await eventually(() => w.journal.includes('start 1'));

      const repair = w.sut.removeFailed('n1', 'no answer');
      await new Promise((resolve) => setTimeout(resolve, 150));
      release();

      await expect(grow).resolves.toMatchObject({ epoch: 2 });
      await expect(repair).resolves.toBe('n3');
      expect(w.store.stored?.epoch).toBe(3);
      expect(ids(w.store.stored)).toEqual(['n2', 'n3']);
      expect(w.provider.stopped).toEqual([['n1']]);
    });
  });
});

describe('ResizeService repairing with the real NodeSetup and nodes', () => {
  let live: SpawnedCacheNode[];
  let dead: DeadNode;
  let router: PoolRouter;

  beforeAll(async () => {
    Logger.overrideLogger(false);
    [live, dead] = await Promise.all([
      Promise.all([spawnCacheNode({ capacityMb: 1 }), spawnCacheNode({ capacityMb: 1 })]),
      deadNode(),
    ]);
  });
  afterAll(async () => {
    router?.onModuleDestroy();
    await Promise.all([...(live ?? []).map((n) => n.stop()), dead?.close()]);
  });

  // A node that hangs instead of refusing (a frozen process, an EC2 host that drops packets) must
  // not be asked to stream: each transfer would wait its timeout while the rebalance lock is held.
  it('does not ask the node it removes as dead to stream its regions', async () => {
    const members: NodeEndpoint[] = [
      { id: 'a', url: live[0].url },
      { id: 'b', url: live[1].url },
      { id: 'dead', url: dead.url },
    ];
    const ids = members.map((n) => n.id);
    const store = new InMemoryPoolStateStore({
      epoch: 1,
      owners: balanced(ids),
      nodes: members,
      previous: null,
    });
    const config = loadConfig({ overrides: { membership: { replace: false } } });
    router = new PoolRouter(config, store);
    await router.reload();
    const settings: CacheSettingsSource = {
      current: async () => ({ capacityMb: 1, policy: 'lru' }),
    };
    const provider = new FakeNodeProvider(1);
    const sut = new ResizeService(
      config,
      router,
      new NodeSetup(config, router, settings),
      new PoolEvents(),
      provider,
      store,
      createAllocator('balanced'),
    );

    await sut.removeFailed('dead', 'no answer to 2 health checks');

    expect(store.stored?.nodes.map((n) => n.id)).toEqual(['a', 'b']);
    expect(provider.stopped).toEqual([['dead']]);
    expect(dead.requests.filter((r) => r.startsWith('POST /v1/transfer'))).toEqual([]);
  });
});
