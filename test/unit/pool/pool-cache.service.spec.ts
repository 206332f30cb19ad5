import { Logger } from '@nestjs/common';
import { StoredImage } from '../../../src/image/stored-image';
import {
  CacheNodeRequestError,
  type CachePutResult,
} from '../../../src/pool/client/cache-node.client';
import { partition } from '../../../src/protocol/hash-ring';
import { NodeFailureService } from '../../../src/pool/membership/node-failure.service';
import { PoolCacheService, StorageLoad } from '../../../src/pool/pool-cache.service';
import { PoolRouter } from '../../../src/pool/routing/pool-router.service';
import { deferred } from './fakes/deferred';
import { FakeNodeFailures } from './fakes/fake-node-failures';
import { allTo, FakePoolRouter } from './fakes/fake-pool-router';

const KEY = 'k1';
const REGION = partition(KEY);
const IMAGE: StoredImage = {
  key: KEY,
  body: Buffer.from('png bytes from storage'),
  contentType: 'image/png',
  version: 7,
};

/** A storage read as the read path hands it over, counting calls. */
function storage(load: StorageLoad = { image: IMAGE, leader: true }) {
  const calls: string[] = [];
  const loader = async (key: string): Promise<StorageLoad> => {
    calls.push(key);
    return load;
  };
  return { loader, calls };
}

describe('PoolCacheService', () => {
  let router: FakePoolRouter;
  let failures: FakeNodeFailures;
  let sut: PoolCacheService;

  beforeAll(() => Logger.overrideLogger(false));
  beforeEach(() => {
    router = new FakePoolRouter().assign(3, ['a'], allTo('a'));
    failures = new FakeNodeFailures();
    sut = new PoolCacheService(
      router as unknown as PoolRouter,
      failures as unknown as NodeFailureService,
    );
  });

  describe('read', () => {
    it('returns the cached bytes on a hit, without reading storage', async () => {
      const body = Buffer.from('cached png');
      router.client('a').nodeEpoch = 3;
      router.client('a').onGet = () => ({
        kind: 'hit',
        value: body,
        contentType: 'image/png',
        version: 7,
        epoch: 3,
      });
      const { loader, calls } = storage();

      const image = await sut.read(KEY, loader);

      expect(image).toEqual({
        key: KEY,
        body,
        contentType: 'image/png',
        version: 7,
        source: 'cache',
      });
      expect(calls).toEqual([]);
      expect(router.client('a').callsOf('get')).toEqual([
        { method: 'get', key: KEY, region: REGION, epoch: 3 },
      ]);
      expect(router.observed).toEqual([3]);
    });

    it('answers a miss once its fill is stored, so a read right after it hits', async () => {
      // Fake timers: the read waits for its fill only up to a bound (50 ms), which a loaded
      // machine could pass between two real-time steps of this test and answer early.
      jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
      try {
        const stored = deferred<CachePutResult>();
        router.client('a').onPut = () => stored.promise;
        let answered = false;
        const reading = sut.read(KEY, storage().loader).then(() => (answered = true));

        for (let i = 0; i < 100 && router.client('a').callsOf('put').length === 0; i++)
          await new Promise((resolve) => setImmediate(resolve));
        expect(router.client('a').callsOf('put')).toHaveLength(1);
        await jest.advanceTimersByTimeAsync(40);
        expect(answered).toBe(false);
        stored.resolve({ kind: 'stored', epoch: 0 });
        await reading;
        expect(answered).toBe(true);
      } finally {
        jest.useRealTimers();
      }
    });

    it('a fill that never ends delays its miss only briefly', async () => {
      router.client('a').onPut = () => new Promise<CachePutResult>(() => undefined);
      const started = Date.now();

      expect(await sut.read(KEY, storage().loader)).toBe(IMAGE);
      expect(Date.now() - started).toBeLessThan(1000);
    });

    it('on a miss loads from storage and fills the owner with the lease of that miss', async () => {
      const { loader, calls } = storage();

      const image = await sut.read(KEY, loader);

      expect(image).toBe(IMAGE);
      expect(calls).toEqual([KEY]);
      const [fill] = router.client('a').callsOf('put');
      expect(fill).toEqual({
        method: 'put',
        key: KEY,
        region: REGION,
        epoch: 3,
        body: IMAGE.body,
        version: 7,
        lease: 'lease-1',
      });
    });

    it('does not fill when another reader led the shared storage read', async () => {
      const { loader } = storage({ image: IMAGE, leader: false });
      expect(await sut.read(KEY, loader)).toBe(IMAGE);
      expect(router.client('a').callsOf('put')).toEqual([]);
    });

    it('does not fill a key storage does not have', async () => {
      const { loader } = storage({ image: null, leader: true });
      expect(await sut.read(KEY, loader)).toBeNull();
      expect(router.client('a').callsOf('put')).toEqual([]);
    });

    it('serves from storage and reports the node when the node is down, never throwing', async () => {
      router.client('a').down();
      const { loader, calls } = storage();

      await expect(sut.read(KEY, loader)).resolves.toBe(IMAGE);

      expect(calls).toEqual([KEY]);
      expect(failures.suspected).toEqual([
        { id: 'a', why: expect.stringContaining('unavailable') },
      ]);
      expect(router.client('a').callsOf('put')).toEqual([]);
    });

    it('serves from storage when the node answers something unexpected, without suspecting it', async () => {
      router.client('a').onGet = () => {
        throw new CacheNodeRequestError('http://a', 500, undefined, 'boom');
      };
      const { loader } = storage();
      await expect(sut.read(KEY, loader)).resolves.toBe(IMAGE);
      expect(failures.suspected).toEqual([]);
    });

    it('reports the node when the fill fails, after the reader already has the image', async () => {
      const a = router.client('a');
      const onMiss = a.onGet;
      a.onGet = (key, region) => {
        const miss = onMiss(key, region);
        a.down(); // it dies between the miss and the fill
        return miss;
      };
      const { loader } = storage();

      await expect(sut.read(KEY, loader)).resolves.toBe(IMAGE);
      await new Promise((resolve) => setImmediate(resolve));
      expect(failures.suspected.map((s) => s.id)).toEqual(['a']);
    });

    it('reloads the assignment on "not owner" and asks the new owner', async () => {
      router.client('a').onGet = (_key, region) => ({ kind: 'not_owner', epoch: 4, region });
      router.onNextReload(4, ['b'], allTo('b'));
      router.client('b').onGet = () => ({
        kind: 'hit',
        value: Buffer.from('from b'),
        contentType: 'image/png',
        version: 7,
        epoch: 4,
      });
      const { loader, calls } = storage();

      const image = await sut.read(KEY, loader);

      expect(image?.body.toString()).toBe('from b');
      expect(image?.source).toBe('cache');
      expect(router.reloads).toBe(1);
      expect(calls).toEqual([]);
      expect(router.client('b').callsOf('get')[0].epoch).toBe(4);
    });

    it('gives up on the cache after a second "not owner" and reads storage without filling', async () => {
      router.client('a').onGet = (_key, region) => ({ kind: 'not_owner', epoch: 9, region });
      const { loader, calls } = storage();

      await expect(sut.read(KEY, loader)).resolves.toBe(IMAGE);

      expect(router.client('a').callsOf('get')).toHaveLength(2);
      expect(calls).toEqual([KEY]);
      expect(router.client('a').callsOf('put')).toEqual([]);
    });

    it('reads storage when the pool has no node', async () => {
      const empty = new FakePoolRouter();
      sut = new PoolCacheService(
        empty as unknown as PoolRouter,
        failures as unknown as NodeFailureService,
      );
      const { loader, calls } = storage();
      await expect(sut.read(KEY, loader)).resolves.toBe(IMAGE);
      expect(calls).toEqual([KEY]);
    });
  });

  describe('pending marks (invalidate before commit)', () => {
    it('marks the owner and the previous owner and returns the shortest grant', async () => {
      router.withPrevious(allTo('old'));
      const marked = await sut.markPending(KEY, { id: 'm1', ms: 9000 });
      expect(marked).toEqual({ ms: 9000, untold: false });
      expect(router.client('a').callsOf('markPending')).toHaveLength(1);
      expect(router.client('old').callsOf('markPending')).toHaveLength(1);
    });

    it('a read of a pending key is answered from storage, unfilled and not for a near cache', async () => {
      router.client('a').onGet = () => ({ kind: 'pending', epoch: 3 });
      const { loader } = storage();
      await expect(sut.readForNear(KEY, loader)).resolves.toEqual({
        image: IMAGE,
        nearSafe: false,
      });
      expect(router.client('a').callsOf('put')).toEqual([]);
    });

    it('an owner quarantined because it could not be marked counts as untold (it may rejoin before the commit)', async () => {
      router.client('a').down();
      const marked = await sut.markPending(KEY, { id: 'm1', ms: 9000 });
      expect(failures.quarantined).toEqual([
        { id: 'a', why: expect.stringContaining('pending mark') },
      ]);
      expect(marked.untold).toBe(true);
    });
  });

  describe('invalidate', () => {
    it('tells the owner the version that committed, at the epoch it routes by', async () => {
      await sut.invalidate(KEY, 8);
      expect(router.client('a').callsOf('invalidate')).toEqual([
        { method: 'invalidate', key: KEY, region: REGION, version: 8, epoch: 3 },
      ]);
    });

    it('retries at the new owner after "not owner"', async () => {
      router.client('a').onInvalidate = (_key, region) => ({ kind: 'not_owner', epoch: 4, region });
      router.onNextReload(4, ['b'], allTo('b'));

      await sut.invalidate(KEY, 8);

      expect(router.reloads).toBe(1);
      expect(router.client('b').callsOf('invalidate')).toEqual([
        { method: 'invalidate', key: KEY, region: REGION, version: 8, epoch: 4 },
      ]);
    });

    it('a region still between owners after three tries (or an owner that restarted): waits out every lease', async () => {
      router.client('a').onInvalidate = (_key, region) => ({ kind: 'not_owner', epoch: 3, region });

      await sut.invalidate(KEY, 8);

      expect(router.client('a').callsOf('invalidate')).toHaveLength(3);
      expect(failures.leaseWaits).toBe(1);
    });

    it('quarantines an unreachable owner before the upload is acknowledged', async () => {
      router.client('a').down();
      const removal = deferred();
      failures.quarantining = removal.promise;
      let done = false;

      const invalidation = sut.invalidate(KEY, 8).then(() => (done = true));
      await new Promise((resolve) => setImmediate(resolve));

      expect(failures.quarantined).toEqual([
        { id: 'a', why: expect.stringContaining('invalidation') },
      ]);
      expect(done).toBe(false);
      removal.resolve();
      await invalidation;
      expect(done).toBe(true);
    });

    it('fails the upload when the owner refuses the invalidation outright', async () => {
      router.client('a').onInvalidate = () => {
        throw new CacheNodeRequestError('http://a', 401, 'unauthorized', 'bad secret');
      };
      await expect(sut.invalidate(KEY, 8)).rejects.toBeInstanceOf(CacheNodeRequestError);
      expect(failures.quarantined).toEqual([]);
    });

    it('also invalidates the previous owner of the region when it differs', async () => {
      router.withPrevious(allTo('old'));

      await sut.invalidate(KEY, 8);

      expect(router.client('a').callsOf('invalidate')).toHaveLength(1);
      expect(router.client('old').callsOf('invalidate')).toEqual([
        { method: 'invalidate', key: KEY, region: REGION, version: 8, epoch: 3 },
      ]);
    });

    it('does not fail or remove anything when the previous owner is gone', async () => {
      router.withPrevious(allTo('old'));
      router.client('old').down();

      await expect(sut.invalidate(KEY, 8)).resolves.toBeUndefined();
      expect(failures.quarantined).toEqual([]);
      expect(router.client('a').callsOf('invalidate')).toHaveLength(1);
      // Another instance that has not adopted this epoch may still read it: wait until none does.
      expect(failures.waitsForEveryInstance).toBe(1);
    });

    it('asks the owner only once when it also was the previous owner', async () => {
      router.withPrevious(allTo('a'));
      await sut.invalidate(KEY, 8);
      expect(router.client('a').callsOf('invalidate')).toHaveLength(1);
    });
  });

  describe('with a suspected or quarantined owner', () => {
    it('reads a suspected owner’s keys from storage and does not fill it', async () => {
      router.suspect('a', true);
      const { loader, calls } = storage();

      expect(await sut.read(KEY, loader)).toBe(IMAGE);

      expect(calls).toEqual([KEY]);
      expect(router.client('a').callsOf('get')).toEqual([]);
      expect(router.client('a').callsOf('put')).toEqual([]);
    });

    it('still invalidates at a suspected owner: other instances may read it', async () => {
      router.suspect('a', true);
      await sut.invalidate(KEY, 8);
      expect(router.client('a').callsOf('invalidate')).toHaveLength(1);
    });

    it('neither reads nor invalidates a quarantined owner (it rejoins empty), once every instance agrees', async () => {
      router.quarantined.add('a');
      const { loader, calls } = storage();

      expect(await sut.read(KEY, loader)).toBe(IMAGE);
      await sut.invalidate(KEY, 8);
      await sut.clear();

      expect(calls).toEqual([KEY]);
      expect(router.client('a').calls).toEqual([]);
      expect(failures.quarantined).toEqual([]);
      // The stored assignment was read after the commit (this view could be behind it), and the
      // upload and the clear waited until no instance reads the quarantined node any more.
      expect(router.refreshes).toBe(2);
      expect(failures.waitsForEveryInstance).toBe(2);
    });

    it('tells a quarantined owner after all when the stored assignment has it back (rejoined)', async () => {
      router.quarantined.add('a');
      router.onRefresh = () => router.quarantined.delete('a'); // the leader rejoined it meanwhile

      await sut.invalidate(KEY, 8);
      expect(router.client('a').callsOf('invalidate')).toHaveLength(1);
      expect(failures.waitsForEveryInstance).toBe(0);

      router.quarantined.add('a');
      await sut.clear();
      expect(router.client('a').callsOf('clear')).toHaveLength(1);
    });
  });

  describe('clear', () => {
    it('clears every node of the pool', async () => {
      router.assign(3, ['a', 'b', 'c']);
      await sut.clear();
      for (const id of ['a', 'b', 'c']) expect(router.client(id).callsOf('clear')).toHaveLength(1);
    });

    it('quarantines a node that cannot be cleared and still clears the others', async () => {
      router.assign(3, ['a', 'b']);
      router.client('b').down();

      await sut.clear();

      expect(router.client('a').callsOf('clear')).toHaveLength(1);
      expect(failures.quarantined).toEqual([
        { id: 'b', why: expect.stringContaining('clear failed') },
      ]);
    });
  });
});
