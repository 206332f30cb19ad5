import { Logger } from '@nestjs/common';
import { loadConfig } from '../../../src/config/config-loader';
import type { CacheNode } from '../../../src/cache-node/server';
import { VariantCacheService } from '../../../src/frontend/variant-cache.service';
import type { StoredImage } from '../../../src/image/stored-image';
import { NearCacheService } from '../../../src/near-cache/near-cache.service';
import { CacheNodeClient } from '../../../src/pool/client/cache-node.client';
import type { PoolCacheService, PoolRead } from '../../../src/pool/pool-cache.service';
import { PoolRouter } from '../../../src/pool/routing/pool-router.service';
import { variantKey } from '../../../src/protocol/variant-key';
import { eventually } from '../../support/eventually';
import { inProcessNode } from '../../support/in-process-node';
import { InMemoryPoolStateStore } from '../pool/fakes/in-memory-pool-state.store';

const LEASE_MS = 600;
const VARIANT = variantKey('cat', '16x-inside-png-q80');

function rendered(version: number): StoredImage {
  return {
    key: VARIANT,
    body: Buffer.from(`thumb of cat@${version}`),
    contentType: 'image/png',
    version,
    source: 'storage',
  };
}

/**
 * A variant read against a real near cache subscribed to a real node. The pool answers as it does
 * for a key its owner holds pending (an upload of the original is about to commit): the image is
 * right for this read, but the node did not vouch for it (PoolCacheService.readForNear).
 */
describe('VariantCacheService: what a variant read may leave in the near cache', () => {
  let node: CacheNode;
  let router: PoolRouter;
  let near: NearCacheService;
  let sut: VariantCacheService;

  beforeAll(() => Logger.overrideLogger(false));
  beforeEach(async () => {
    node = inProcessNode({ nearLeaseMs: LEASE_MS });
    const { port } = await node.listen();
    const url = `http://127.0.0.1:${port}`;
    const owners = Array.from({ length: 16 }, () => 'n1');
    const admin = new CacheNodeClient({ url, timeoutMs: 1000, waitTimeoutMs: 1000 + LEASE_MS });
    await admin.setOwnership(
      1,
      owners.map((_, r) => r),
    );
    admin.close();
    // A node holds the regions it gains for one lease (subscriptions.ts, step 3).
    await new Promise((resolve) => setTimeout(resolve, LEASE_MS));
    const config = loadConfig({
      env: { PIXPOOL_NEAR_CACHE_CAPACITY_MB: '8', PIXPOOL_NEAR_CACHE_LEASE_MS: String(LEASE_MS) },
    });
    const store = new InMemoryPoolStateStore({
      epoch: 1,
      owners,
      nodes: [{ id: 'n1', url }],
      previous: null,
    });
    router = new PoolRouter(config, store);
    router.adopt(store.stored!);
    near = new NearCacheService(config, router, store);
    near.onModuleInit();
    await eventually('the subscription', () => near.ticket('cat') !== undefined);
    type Load = (k: string) => Promise<{ image: StoredImage | null }>;
    const readForNear = async (key: string, load: Load): Promise<PoolRead> => ({
      image: (await load(key)).image,
      nearSafe: false,
    });
    const pool = {
      readForNear,
      read: async (key: string, load: Load) => (await readForNear(key, load)).image,
    } as unknown as PoolCacheService;
    sut = new VariantCacheService(pool, near);
  });
  afterEach(async () => {
    near.onApplicationShutdown();
    router.onModuleDestroy();
    await node.close(100);
  });

  it('a variant rendered from the original before its upload committed is not kept once the upload is released', async () => {
    // This front-end's own upload of cat opened its fence (the node leaves it out of the push).
    near.markLocal('cat', 'mark-1', 5_000);
    for (let read = 0; read < 2; read++) {
      const image = await sut.read(VARIANT, async () => {
        const old = rendered(1); // the original read before the commit of version 2
        near.releaseLocal('cat', 'mark-1'); // version 2 committed and released meanwhile
        return old;
      });
      expect(image.version).toBe(1); // right for this read: it began before the commit
    }
    // A later read must not be answered with the thumbnail of version 1.
    expect(near.lookup(VARIANT)).toBeUndefined();
  });
});
