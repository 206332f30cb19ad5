import { Logger } from '@nestjs/common';
import { loadConfig } from '../../../../src/config/config-loader';
import type { CacheNode } from '../../../../src/cache-node/server';
import { CacheNodeClient } from '../../../../src/pool/client/cache-node.client';
import { NodeSetup } from '../../../../src/pool/membership/node-setup.service';
import { PoolRouter } from '../../../../src/pool/routing/pool-router.service';
import type { PoolState } from '../../../../src/pool/routing/pool-state';
import { inProcessNode } from '../../../support/in-process-node';
import { InMemoryPoolStateStore } from '../fakes/in-memory-pool-state.store';

const ALL = Array.from({ length: 16 }, (_, r) => r);

/*
 * A node that gains regions holds their invalidations for the lease its previous owner granted
 * (front-ends subscribed there may not have heard it gave them up): the manager asks for that
 * hold from what the previous owner said, whatever its own near-cache setting.
 */
describe('NodeSetup: the hold a gaining node is asked for', () => {
  let node: CacheNode;
  let url: string;
  let router: PoolRouter;
  beforeAll(() => Logger.overrideLogger(false));

  /** Node a (at `aUrl`) owned every region; now node b (at `bUrl`) does. */
  function everyRegionMoves(aUrl: string, bUrl: string): { prev: PoolState; next: PoolState } {
    const prev: PoolState = {
      epoch: 1,
      owners: ALL.map(() => 'a'),
      nodes: [{ id: 'a', url: aUrl }],
      previous: null,
    };
    const next: PoolState = {
      epoch: 2,
      owners: ALL.map(() => 'b'),
      nodes: [{ id: 'b', url: bUrl }],
      previous: { owners: prev.owners, nodes: prev.nodes },
    };
    return { prev, next };
  }

  /** This instance's NodeSetup, with its router on `next` and these settings. */
  function setupRoutingBy(next: PoolState, env: Record<string, string>): NodeSetup {
    const config = loadConfig({ env });
    router = new PoolRouter(config, new InMemoryPoolStateStore(next));
    router.adopt(next);
    return new NodeSetup(config, router, {
      current: async () => ({ capacityMb: 1, policy: 'lru' }),
    });
  }
  afterEach(async () => {
    router?.onModuleDestroy();
    await node?.close(100);
  });

  it("is the previous owner's grant, also from an instance with the near cache off", async () => {
    node = inProcessNode({ nearLeaseMs: 300 });
    url = `http://127.0.0.1:${(await node.listen()).port}`;
    await new Promise((resolve) => setTimeout(resolve, 350)); // its own start hold is over
    const { prev, next } = everyRegionMoves('http://127.0.0.1:1', url); // a: gone, untold
    const setup = setupRoutingBy(next, { PIXPOOL_NEAR_CACHE_CAPACITY_MB: '0' });
    router.leases.record('a', 1500); // what a said it grants (its health answer)

    expect(await setup.pushOwnership(next.nodes, prev, next)).toEqual([]);
    const client = new CacheNodeClient({ url, timeoutMs: 1000, waitTimeoutMs: 3000 });
    try {
      const started = Date.now();
      await client.invalidate('k', 3, 2, 2); // an upload right after the move
      expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
    } finally {
      client.close();
    }
  });

  it("is what a previous owner this instance has not heard from says it grants, not this instance's own setting", async () => {
    // Another instance added `a` a moment ago; this one has not probed it yet. Assuming its own
    // 10 s setting held every upload to the moved regions that long.
    const previousOwner = inProcessNode({ nearLeaseMs: 300 });
    const aUrl = `http://127.0.0.1:${(await previousOwner.listen()).port}`;
    node = inProcessNode({ nearLeaseMs: 300 });
    url = `http://127.0.0.1:${(await node.listen()).port}`;
    await new Promise((resolve) => setTimeout(resolve, 350)); // their own start holds are over
    const { prev, next } = everyRegionMoves(aUrl, url);
    const setup = setupRoutingBy(next, { PIXPOOL_NEAR_CACHE_LEASE_MS: '10000' });
    const client = new CacheNodeClient({ url, timeoutMs: 1000, waitTimeoutMs: 3000 });
    try {
      expect(await setup.pushOwnership(next.nodes, prev, next)).toEqual([]);
      const started = Date.now();
      await client.invalidate('k', 3, 2, 2); // an upload right after the move
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      client.close();
      await previousOwner.close(100);
    }
  });
});
