import { Logger } from '@nestjs/common';
import { loadConfig } from '../../../src/config/config-loader';
import type { CacheNode } from '../../../src/cache-node/server';
import type { StoredImage } from '../../../src/image/stored-image';
import { NearCacheService } from '../../../src/near-cache/near-cache.service';
import { CacheNodeClient } from '../../../src/pool/client/cache-node.client';
import { partition } from '../../../src/protocol/hash-ring';
import { PoolRouter } from '../../../src/pool/routing/pool-router.service';
import type { PoolState } from '../../../src/pool/routing/pool-state';
import { inProcessNode } from '../../support/in-process-node';
import { startFaultProxy, type FaultProxy } from '../../support/fault-proxy';
import { InMemoryPoolStateStore } from '../pool/fakes/in-memory-pool-state.store';
import { eventually, eventuallyAsync } from '../../support/eventually';

const LEASE_MS = 600;

function image(key: string, version: number): StoredImage {
  return { key, body: Buffer.from(`${key}@${version}`), contentType: 'image/png', version };
}

/**
 * The front-end's near cache against a real cache node over real sockets (in this process), with
 * the "uploader" a plain node client, as another front-end's upload path is.
 */
describe('NearCacheService with a real cache node', () => {
  let node: CacheNode;
  let nodeUrl: string;
  let uploader: CacheNodeClient;
  let store: InMemoryPoolStateStore;
  let router: PoolRouter;
  let sut: NearCacheService;
  let proxy: FaultProxy | undefined;

  const state = (epoch: number, url: string, owner = 'n1'): PoolState => ({
    epoch,
    owners: Array.from({ length: 16 }, () => owner),
    nodes: [{ id: owner, url }],
    previous: null,
  });

  /** Admits `img` (two reads: the admission policy keeps one-offs out). */
  function admit(img: StoredImage): void {
    for (let i = 0; i < 2; i++) {
      const ticket = sut.ticket(img.key);
      if (!ticket) throw new Error('region not served');
      sut.offer(ticket, img);
    }
  }

  async function start(frontEndUrl: string): Promise<void> {
    const config = loadConfig({
      env: {
        PIXPOOL_NEAR_CACHE_CAPACITY_MB: '8',
        PIXPOOL_NEAR_CACHE_LEASE_MS: String(LEASE_MS),
        PIXPOOL_NEAR_CACHE_REPORT_INTERVAL_MS: '100',
      },
    });
    store = new InMemoryPoolStateStore(state(1, frontEndUrl));
    router = new PoolRouter(config, store);
    router.adopt(store.stored!);
    sut = new NearCacheService(config, router, store);
    sut.onModuleInit();
    await eventually('the subscription', () => sut.ticket('k') !== undefined);
  }

  beforeAll(() => Logger.overrideLogger(false));
  beforeEach(async () => {
    node = inProcessNode({ nearLeaseMs: LEASE_MS }); // the lease is the node's grant
    const address = await node.listen();
    nodeUrl = `http://127.0.0.1:${address.port}`;
    uploader = new CacheNodeClient({
      url: nodeUrl,
      timeoutMs: 1000,
      waitTimeoutMs: 1000 + LEASE_MS,
    });
    await uploader.setOwnership(
      1,
      Array.from({ length: 16 }, (_, r) => r),
    );
    // Regions a node gains are held for its lease (subscriptions.ts, step 3): let that pass, so
    // the timings below are the subscriptions' alone.
    await new Promise((resolve) => setTimeout(resolve, LEASE_MS));
  });
  afterEach(async () => {
    sut?.onApplicationShutdown();
    router?.onModuleDestroy();
    uploader.close();
    await proxy?.close();
    proxy = undefined;
    await node.close(100);
  });

  it('admits a key on its second read and serves it with prepared headers', async () => {
    await start(nodeUrl);
    const img = image('cat', 3);
    const first = sut.ticket('cat')!;
    sut.offer(first, img);
    expect(sut.lookup('cat')).toBeUndefined();
    sut.offer(sut.ticket('cat')!, img);
    const hit = sut.lookup('cat')!;
    expect(hit.body).toBe(img.body); // the same bytes, not a copy
    expect(hit.headers).toEqual(
      expect.arrayContaining(['ETag', '"v3"', 'Content-Length', String(img.body.length)]),
    );
  });

  it("an upload's invalidation is answered only after the near copy is gone", async () => {
    await start(nodeUrl);
    admit(image('dog', 1));
    expect(sut.lookup('dog')).toBeDefined();
    await uploader.invalidate('dog', partition('dog'), 2, 1);
    expect(sut.lookup('dog')).toBeUndefined();
  });

  it('a fill that read the old image before an invalidation never lands after it', async () => {
    await start(nodeUrl);
    const tickets = [sut.ticket('bird')!, sut.ticket('bird')!];
    await uploader.invalidate('bird', partition('bird'), 2, 1);
    for (const t of tickets) sut.offer(t, image('bird', 1));
    expect(sut.lookup('bird')).toBeUndefined();
    admit(image('bird', 2)); // reads that began after the upload are admitted
    expect(sut.lookup('bird')?.version).toBe(2);
    await uploader.invalidate('bird', partition('bird'), 3, 1);
    expect(sut.lookup('bird')).toBeUndefined();
  });

  it("another front-end's pending mark: the copy goes before the mark is answered, nothing is admitted until the release", async () => {
    await start(nodeUrl);
    admit(image('hot', 1));
    const before = sut.ticket('hot')!; // a read that began before the mark
    await uploader.markPending('hot', partition('hot'), { id: 'up1', ms: 5000 }, 1);
    expect(sut.lookup('hot')).toBeUndefined();
    sut.offer(before, image('hot', 1));
    admit(image('hot', 1)); // reads that began during the mark (a pending node vouches for none)
    expect(sut.lookup('hot')).toBeUndefined();
    await uploader.release('hot', partition('hot'), 'up1', 2);
    await eventually('the release to arrive', () => {
      admit(image('hot', 2));
      return sut.lookup('hot')?.version === 2;
    });
  });

  it('a pending mark that is never released blocks admission for its grant only', async () => {
    await start(nodeUrl);
    await uploader.markPending('gone', partition('gone'), { id: 'dead', ms: 300 }, 1);
    admit(image('gone', 1));
    expect(sut.lookup('gone')).toBeUndefined();
    await eventually('the mark to run out', () => {
      admit(image('gone', 1));
      return sut.lookup('gone') !== undefined;
    });
  });

  it("the front-end's own upload drops its copy before the node is told", async () => {
    await start(nodeUrl);
    admit(image('own', 1));
    const ticket = sut.ticket('own')!;
    sut.dropLocal('own');
    expect(sut.lookup('own')).toBeUndefined();
    sut.offer(ticket, image('own', 1));
    sut.offer(ticket, image('own', 1));
    expect(sut.lookup('own')).toBeUndefined();
  });

  it("the front-end's own upload is not held up by its own event loop, and drops its copy when the node answers", async () => {
    const port = Number(new URL(nodeUrl).port);
    proxy = await startFaultProxy({ target: { host: '127.0.0.1', port } });
    await start(`http://127.0.0.1:${proxy.port}`);
    admit(image('mine', 1));
    await proxy.set('blackhole'); // nothing the node pushes reaches us, no ack reaches it
    sut.dropLocal('mine'); // the upload committed; before telling the node
    // A read that got the old image from the node before the node applied the invalidation:
    admit(image('mine', 1));
    const late = sut.ticket('mine')!;
    const started = Date.now();
    await uploader.invalidate('mine', partition('mine'), 2, 1, sut.id);
    expect(Date.now() - started).toBeLessThan(LEASE_MS / 2); // not a lease: ours is not awaited
    sut.dropLocal('mine'); // what the upload path does once the node answered
    expect(sut.lookup('mine')).toBeUndefined();
    sut.offer(late, image('mine', 1));
    sut.offer(late, image('mine', 1));
    expect(sut.lookup('mine')).toBeUndefined();
  });

  it('an epoch that moves a region drops the copies of that region only', async () => {
    await start(nodeUrl);
    const keys = ['a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7', 'a8'];
    for (const key of keys) admit(image(key, 1));
    const moved = partition('a1');
    const next = state(2, nodeUrl);
    next.owners[moved] = 'n2';
    next.nodes.push({ id: 'n2', url: 'http://n2.invalid:1' });
    router.adopt(next);
    for (const key of keys) {
      if (partition(key) === moved) expect(sut.lookup(key)).toBeUndefined();
      else expect(sut.lookup(key)).toBeDefined();
    }
  });

  it('a quarantined owner (it may have missed an invalidation) has its regions served from nowhere near, until it rejoins', async () => {
    // Another instance could not tell the node of an upload and quarantined it at a new epoch;
    // this front-end still reaches the node, which never pushed that invalidation.
    await start(nodeUrl);
    admit(image('q', 1));
    const quarantined = { ...state(2, nodeUrl), quarantined: ['n1'] };
    router.adopt(quarantined);
    expect(sut.lookup('q')).toBeUndefined();
    expect(sut.ticket('q')).toBeUndefined(); // no new near copies either
    await new Promise((resolve) => setTimeout(resolve, LEASE_MS)); // renewals do not bring it back
    expect(sut.ticket('q')).toBeUndefined();
    router.adopt(state(3, nodeUrl)); // rejoined (emptied) at a new epoch
    await eventually('serving again after the rejoin', () => sut.ticket('q') !== undefined);
    expect(sut.lookup('q')).toBeUndefined(); // the old copy did not come back
  });

  it('an upload during which the assignment changed waits one lease more; otherwise none', async () => {
    await start(nodeUrl);
    let started = Date.now();
    await sut.afterInvalidation(sut.stateBefore());
    expect(Date.now() - started).toBeLessThan(LEASE_MS / 2);

    const before = sut.stateBefore();
    router.adopt(state(2, nodeUrl)); // e.g. the owner was quarantined while the upload ran
    started = Date.now();
    await sut.afterInvalidation(before);
    expect(Date.now() - started).toBeGreaterThanOrEqual(LEASE_MS - 5);
  });

  it('clearing the node clears the near cache before the clear is answered', async () => {
    await start(nodeUrl);
    admit(image('c1', 1));
    await uploader.clear();
    expect(sut.lookup('c1')).toBeUndefined();
  });

  it('near hits count as hits at the owner node', async () => {
    await start(nodeUrl);
    admit(image('hot', 1));
    const before = (await uploader.stats()).sinceStart;
    for (let i = 0; i < 25; i++) expect(sut.lookup('hot')).toBeDefined();
    // Counted hits and the front-end's report travel separately: wait for both.
    let stats = await uploader.stats();
    await eventuallyAsync('the near hits reported to the node', async () => {
      stats = await uploader.stats();
      const reported = stats.near?.reports[0]?.hits ?? 0;
      return stats.sinceStart.hits - before.hits >= 25 && reported >= 25;
    });
    const after = stats.sinceStart;
    expect(after.hits - before.hits).toBe(25);
    expect(after.gets - before.gets).toBe(25);
    const near = stats.near!;
    expect(near.subscribers).toBe(1);
    expect(near.reports[0]).toMatchObject({ items: 1, hits: 25 });
  });

  it('stops serving within a lease when the stored epoch cannot be confirmed', async () => {
    await start(nodeUrl);
    admit(image('db', 1));
    store.epoch = () => new Promise<number>(() => undefined); // the database stops answering
    const stalledAt = Date.now();
    await eventually('near copies to stop', () => sut.lookup('db') === undefined, LEASE_MS + 100);
    expect(Date.now() - stalledAt).toBeLessThanOrEqual(LEASE_MS + 20);
  });

  it('a node that goes away takes its near copies with it at once', async () => {
    await start(nodeUrl);
    admit(image('gone', 1));
    await node.close(100);
    await eventually('the copy to go', () => sut.lookup('gone') === undefined, 500);
  });

  it('a front-end that shuts down stops serving and is not waited for by uploads', async () => {
    await start(nodeUrl);
    admit(image('bye', 1));
    sut.onApplicationShutdown();
    expect(sut.lookup('bye')).toBeUndefined();
    await eventuallyAsync(
      'the node to forget it',
      async () => (await uploader.stats()).near?.subscribers === 0,
    );
    const started = Date.now();
    await uploader.invalidate('bye', partition('bye'), 2, 1);
    expect(Date.now() - started).toBeLessThan(LEASE_MS / 2);
    expect((await uploader.stats()).near?.subscribers).toBe(0);
  });

  it('a silent link (no answers for a lease) is replaced by a new connection', async () => {
    const port = Number(new URL(nodeUrl).port);
    proxy = await startFaultProxy({ target: { host: '127.0.0.1', port } });
    await start(`http://127.0.0.1:${proxy.port}`);
    const accepted = proxy.accepted();
    await proxy.set('blackhole');
    await eventually('a new connection attempt', () => proxy!.accepted() > accepted, 3 * LEASE_MS);
    await proxy.set('pass');
    await eventually('serving again', () => sut.ticket('k') !== undefined, 3 * LEASE_MS);
  });

  it('a node that starts (maybe a restart) holds every region for its own lease, though the manager asks for no hold (its near cache off, or the owner unknown)', async () => {
    const port = Number(new URL(nodeUrl).port);
    proxy = await startFaultProxy({ target: { host: '127.0.0.1', port } });
    await start(`http://127.0.0.1:${proxy.port}`);
    admit(image('moved', 1));
    await proxy.set('blackhole'); // the old owner cannot tell this front-end it gave the region up
    const next = inProcessNode({ nearLeaseMs: LEASE_MS });
    const nextUrl = `http://127.0.0.1:${(await next.listen()).port}`;
    const manager = new CacheNodeClient({ url: nextUrl, timeoutMs: 1000 });
    try {
      const all = Array.from({ length: 16 }, (_, r) => r);
      await manager.setOwnership(1, []); // prepared as a joining node is
      await manager.setOwnership(2, all); // no holdMs: what an instance with L1 off asks
      await manager.invalidate('moved', partition('moved'), 2, 2); // an upload of v2
      expect(sut.lookup('moved')).toBeUndefined();
    } finally {
      manager.close();
      await next.close(100);
    }
  });

  it('cut off from the node: stops serving within the lease; the upload is answered within lease + deadline', async () => {
    const port = Number(new URL(nodeUrl).port);
    proxy = await startFaultProxy({ target: { host: '127.0.0.1', port } });
    await start(`http://127.0.0.1:${proxy.port}`);
    admit(image('cut', 1));
    expect(sut.lookup('cut')).toBeDefined();
    await proxy.set('blackhole');
    const cutAt = Date.now();
    const upload = uploader
      .invalidate('cut', partition('cut'), 2, 1)
      .then(() => Date.now() - cutAt);
    await eventually('near copies to stop', () => sut.lookup('cut') === undefined, LEASE_MS);
    const stoppedAfter = Date.now() - cutAt;
    const answeredAfter = await upload;
    expect(stoppedAfter).toBeLessThanOrEqual(LEASE_MS);
    // The node waited for the lease (no ack could come), and not much longer.
    expect(answeredAfter).toBeGreaterThanOrEqual(stoppedAfter - 20);
    expect(answeredAfter).toBeLessThan(LEASE_MS + 1000);
    expect(sut.lookup('cut')).toBeUndefined();
  });
});
