import { Logger } from '@nestjs/common';
import { loadConfig } from '../../../../src/config/config-loader';
import { partition } from '../../../../src/protocol/hash-ring';
import { PoolRouter } from '../../../../src/pool/routing/pool-router.service';
import { eventually } from '../fakes/deferred';
import { healthOnlyNode, HealthOnlyNode } from '../fakes/health-only-node';
import { InMemoryPoolStateStore } from '../fakes/in-memory-pool-state.store';
import { endpoint, poolState } from '../fakes/pool-state.fixtures';

describe('PoolRouter', () => {
  let store: InMemoryPoolStateStore;
  let sut: PoolRouter;

  beforeAll(() => Logger.overrideLogger(false));
  beforeEach(() => {
    store = new InMemoryPoolStateStore();
    sut = new PoolRouter(loadConfig(), store);
  });
  afterEach(() => sut.onModuleDestroy());

  describe('adopt', () => {
    it('adopts a newer epoch and ignores an older or equal one', () => {
      expect(sut.adopt(poolState(2, ['a', 'b']))).toBe(true);

      expect(sut.adopt(poolState(1, ['c']))).toBe(false);
      expect(sut.adopt(poolState(2, ['c']))).toBe(false);

      expect(sut.epoch).toBe(2);
      expect(sut.nodes().map((n) => n.id)).toEqual(['a', 'b']);
      expect(sut.adopt(poolState(3, ['c']))).toBe(true);
      expect(sut.nodes().map((n) => n.id)).toEqual(['c']);
    });

    it('is not changed by the caller mutating the state it handed over', () => {
      const state = poolState(1, ['a']);
      sut.adopt(state);
      state.owners.fill('zzz');
      expect(sut.route('test').node?.id).toBe('a');
    });
  });

  describe('route', () => {
    it('sends a key to the owner of its partition', () => {
      // Regions 0, 12, 11 and 6 (the course's examples) each get a different owner.
      const owners = Array.from({ length: 16 }, () => 'other');
      owners[0] = 'zero';
      owners[12] = 'twelve';
      owners[11] = 'eleven';
      owners[6] = 'six';
      const ids = ['zero', 'twelve', 'eleven', 'six', 'other'];
      sut.adopt({ epoch: 1, owners, nodes: ids.map(endpoint), previous: null });

      for (const [key, owner] of [
        ['test', 'zero'],
        ['test123', 'twelve'],
        ['k1', 'eleven'],
        ['k2', 'six'],
        ['something else', owners[partition('something else')]],
      ]) {
        const routed = sut.route(key);
        expect(routed.region).toBe(partition(key));
        expect(routed.node?.id).toBe(owner);
        expect(routed.node?.url).toBe(endpoint(owner).url);
      }
    });

    it('has no node to route to before the pool started', () => {
      expect(sut.route('test')).toEqual({ region: 0, node: null });
      expect(sut.epoch).toBe(0);
      expect(sut.nodes()).toEqual([]);
    });
  });

  describe('connections', () => {
    let kept: HealthOnlyNode;
    let leaving: HealthOnlyNode;
    beforeEach(async () => {
      [kept, leaving] = await Promise.all([healthOnlyNode(), healthOnlyNode()]);
    });
    afterEach(async () => {
      await Promise.all([kept.close(), leaving.close()]);
    });

    it('closes the connections of nodes that left the pool and keeps those of the others', async () => {
      sut.adopt({
        epoch: 1,
        owners: poolState(1, ['kept', 'leaving']).owners,
        nodes: [
          { id: 'kept', url: kept.url },
          { id: 'leaving', url: leaving.url },
        ],
      });
      const keptClient = sut.node('kept')?.client;
      await Promise.all(sut.nodes().map((n) => n.client.health()));
      expect(leaving.openConnections()).toBe(1);

      sut.adopt({
        epoch: 2,
        owners: poolState(2, ['kept']).owners,
        nodes: [{ id: 'kept', url: kept.url }],
      });

      await eventually(() => leaving.openConnections() === 0);
      expect(sut.node('leaving')).toBeNull();
      expect(sut.node('kept')?.client).toBe(keptClient);
      expect(kept.openConnections()).toBe(1);
    });

    it('closes the connection it opened to a former owner once a newer epoch arrives', async () => {
      const nodes = [
        { id: 'kept', url: kept.url },
        { id: 'leaving', url: leaving.url },
      ];
      const before = { owners: poolState(1, ['kept', 'leaving']).owners, nodes };
      sut.adopt({ epoch: 1, ...before });
      sut.adopt({
        epoch: 2,
        owners: poolState(2, ['kept']).owners,
        nodes: [nodes[0]],
        previous: before,
      });
      const former = sut.previousOwner(before.owners.indexOf('leaving'));
      await former?.client.health();
      expect(leaving.openConnections()).toBe(1);

      sut.adopt({ epoch: 3, owners: poolState(3, ['kept']).owners, nodes: [nodes[0]] });

      await eventually(() => leaving.openConnections() === 0);
    });

    it('reconnects a node whose address changed', () => {
      sut.adopt({
        epoch: 1,
        owners: poolState(1, ['n']).owners,
        nodes: [{ id: 'n', url: kept.url }],
      });
      const before = sut.node('n')?.client;
      sut.adopt({
        epoch: 2,
        owners: poolState(2, ['n']).owners,
        nodes: [{ id: 'n', url: leaving.url }],
      });
      expect(sut.node('n')?.url).toBe(leaving.url);
      expect(sut.node('n')?.client).not.toBe(before);
      expect(sut.node('n')?.client.url).toBe(leaving.url);
    });
  });

  describe('reload', () => {
    it('lets concurrent callers share one read of the store', async () => {
      store.saveAsAnotherInstance(poolState(4, ['a', 'b']));
      const release = store.holdLoads();

      const reloads = [sut.reload(), sut.reload(), sut.reload()];
      release();
      await Promise.all(reloads);

      expect(store.loads).toBe(1);
      expect(sut.epoch).toBe(4);
      await sut.reload();
      expect(store.loads).toBe(2);
    });

    it('keeps routing by what it has when the store cannot be read', async () => {
      sut.adopt(poolState(2, ['a']));
      store.saveAsAnotherInstance(poolState(3, ['b']));
      store.failNextLoad = new Error('database gone');

      await expect(sut.reload()).resolves.toBeUndefined();
      expect(sut.epoch).toBe(2);
      await sut.reload();
      expect(sut.epoch).toBe(3);
    });

    it('ignores a stored state older than its own', async () => {
      sut.adopt(poolState(5, ['a']));
      store.saveAsAnotherInstance(poolState(4, ['b']));
      await sut.reload();
      expect(sut.epoch).toBe(5);
      expect(sut.route('k').node?.id).toBe('a');
    });
  });

  describe('observeEpoch', () => {
    beforeEach(() => {
      sut.adopt(poolState(2, ['a']));
      store.saveAsAnotherInstance(poolState(3, ['a', 'b'], poolState(2, ['a'])));
    });

    it('reloads when a node is ahead of the assignment it routes by', async () => {
      sut.observeEpoch(3);
      await eventually(() => sut.epoch === 3);
      expect(store.loads).toBe(1);
    });

    it('does not read the store when the node is at or behind its epoch, or did not say', async () => {
      sut.observeEpoch(2);
      sut.observeEpoch(1);
      sut.observeEpoch(-1);
      sut.observeEpoch(undefined);
      await new Promise((resolve) => setImmediate(resolve));
      expect(store.loads).toBe(0);
      expect(sut.epoch).toBe(2);
    });
  });

  describe('previousOwner', () => {
    const before = poolState(1, ['a', 'b']);
    const after = poolState(2, ['a', 'b', 'c'], before);

    it('names the old owner of a region that moved, and nobody for one that stayed', () => {
      sut.adopt(after);
      let moved = 0;
      for (let region = 0; region < 16; region++) {
        const previous = sut.previousOwner(region);
        if (before.owners[region] === after.owners[region]) {
          expect(previous).toBeNull();
        } else {
          moved++;
          expect(previous?.id).toBe(before.owners[region]);
          expect(previous?.client).toBe(sut.node(before.owners[region])?.client);
        }
      }
      expect(moved).toBeGreaterThan(0);
    });

    it('reaches an old owner that is no longer in the pool through a client of its own', () => {
      const shrunk = poolState(3, ['a'], after);
      sut.adopt(shrunk);
      const region = after.owners.indexOf('c');

      const previous = sut.previousOwner(region);

      expect(previous?.id).toBe('c');
      expect(previous?.url).toBe(endpoint('c').url);
      expect(previous?.client.url).toBe(endpoint('c').url);
      expect(sut.node('c')).toBeNull();
      expect(sut.nodes().map((n) => n.id)).toEqual(['a']);
      expect(sut.previousOwner(region)?.client).toBe(previous?.client);
    });

    it('has no previous owner for a first assignment', () => {
      sut.adopt(poolState(1, ['a']));
      for (let region = 0; region < 16; region++) expect(sut.previousOwner(region)).toBeNull();
    });
  });
});
